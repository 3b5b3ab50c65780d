import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")

app = Celery("ledgerx")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fix-up closes the connection around every task unless this is set.
app.conf.CELERY_DB_REUSE_MAX = 1000
# Each worker keeps a heartbeat in Redis for the internals page and the metrics.
app.steps["worker"].add("apps.system.heartbeat:WorkerHeartbeat")
app.autodiscover_tasks()


@task_prerun.connect
def _fresh_database_connection(**kwargs) -> None:
    """Drop a connection that broke (say, PostgreSQL cut it) so the task's retry reconnects.

    With CELERY_DB_REUSE_MAX the Django fix-up keeps connections between tasks, including dead ones.
    """
    from django.db import close_old_connections

    close_old_connections()
