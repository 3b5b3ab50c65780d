import uuid

from celery import shared_task

from . import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
    retry_jitter=True,
)
def score_transactions(transaction_ids: list[str]) -> int:
    return services.transactions_score(transaction_ids=[uuid.UUID(value) for value in transaction_ids])


@shared_task
def sweep_unscored_transactions() -> int:
    return services.scoring_sweep()
