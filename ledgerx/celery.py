import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

from .audit_context import AuditActor, audit_context_enter, audit_context_leave, process_origin

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")

app = Celery("ledgerx")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the connection around every task unless this is set.
app.conf.CELERY_DB_REUSE_MAX = 1000
# Each worker keeps a heartbeat in Redis for the internals page and the metrics.
app.steps["worker"].add("apps.system.heartbeat:WorkerHeartbeat")
app.autodiscover_tasks()


@worker_init.connect
def _require_session_pooling(**kwargs) -> None:
    """A worker moves money under session advisory locks: it will not start behind transaction pooling.

    SystemExit, because Celery logs and carries on past any Exception a signal handler raises.
    """
    from ledgerx.pooling import TransactionPoolingError, require_session_pooling

    try:
        require_session_pooling()
    except TransactionPoolingError as error:
        raise SystemExit(f"the Celery worker will not start: {error}") from None


@task_prerun.connect
def _fresh_database_connection(**kwargs) -> None:
    """Drop a connection that broke (say, PostgreSQL cut it) so the task's retry reconnects.

    With CELERY_DB_REUSE_MAX the Django fix-up keeps connections between tasks, including dead ones.
    """
    from django.db import close_old_connections

    close_old_connections()


# The audit context of each running task, by task id: a task's writes are the task's (audit_context.py).
_task_audit_contexts = {}


@task_prerun.connect
def _task_audit_context_enter(task_id, task, **kwargs) -> None:
    actor = AuditActor(label=f"task:{task.name}", origin=process_origin(), context_id=task_id or "")
    _task_audit_contexts[task_id] = audit_context_enter(actor)


@task_postrun.connect
def _task_audit_context_leave(task_id, **kwargs) -> None:
    token = _task_audit_contexts.pop(task_id, None)
    if token is not None:
        audit_context_leave(token)
