from celery import shared_task

from . import login_guard


@shared_task(name="apps.tenancy.tasks.prune_login_throttle")
def prune_login_throttle() -> int:
    return login_guard.login_throttle_prune()
