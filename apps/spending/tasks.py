import uuid

from celery import shared_task

from . import services

# The names are the ones these tasks had in apps.ledger and apps.approvals before the spend workflow
# moved here: messages queued by the release before keep finding their task across a deploy.


@shared_task(
    name="apps.ledger.tasks.settle_pending",
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


@shared_task(name="apps.ledger.tasks.sweep_pending_transactions")
def sweep_pending_transactions() -> int:
    return services.settlement_sweep()


@shared_task(name="apps.approvals.tasks.expire_approvals")
def expire_approvals() -> int:
    return services.approval_expire_due()


@shared_task(ignore_result=True)
def send_decision_notices(transaction_ids: list[str]) -> int:
    return services.decision_notices_send(transaction_ids=transaction_ids)
