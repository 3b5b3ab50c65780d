import uuid

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_events(event_ids: list[str]) -> int:
    return services.outbox_dispatch(event_ids=[uuid.UUID(event_id) for event_id in event_ids])


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: str) -> str | None:
    delivery = services.delivery_attempt(delivery_id=uuid.UUID(delivery_id))
    return None if delivery is None else delivery.status


@shared_task
def sweep_webhooks() -> dict[str, int]:
    return services.webhooks_sweep()


@shared_task
def purge_webhook_outbox() -> int:
    return services.outbox_purge()
