from celery import shared_task

from . import payment_runs


@shared_task
def draft_scheduled_payment_runs() -> int:
    return len(payment_runs.scheduled_runs_draft())
