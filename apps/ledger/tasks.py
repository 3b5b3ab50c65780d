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
    result = services.settlement_run(
        organization_id=uuid.UUID(organization_id),
        transaction_id=uuid.UUID(transaction_id) if transaction_id else None,
    )
    if result.more_pending:
        services.settlement_request(organization_id=uuid.UUID(organization_id))
    return result.settled


@shared_task
def sweep_pending_transactions() -> int:
    return services.settlement_sweep()


@shared_task
def seal_ledger() -> int:
    return chain.ledger_seal_all()
