from celery import shared_task

from . import services


@shared_task
def rollover_budgets() -> int:
    return services.budget_rollover()
