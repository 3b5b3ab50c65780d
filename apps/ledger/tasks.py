import uuid

from celery import shared_task

from . import chain, services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=5,
    retry_backoff=True,
    retry_jitter=True,
)
def settle_pending(organization_id: str, transaction_id: str | None = None) -> int:
    # `transaction_id` comes only in messages queued by earlier releases; the drain takes every pending spend.
    return services.settlement_drain(organization_id=uuid.UUID(organization_id))


@shared_task
def sweep_pending_transactions() -> int:
    return services.settlement_sweep()


@shared_task
def seal_ledger() -> int:
    return chain.ledger_seal_all()
