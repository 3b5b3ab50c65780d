from celery import shared_task

from . import services


@shared_task
def expire_approvals() -> int:
    return services.approval_expire_due()
