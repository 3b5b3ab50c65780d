"""Celery tasks. Their names are fixed (`name=`), so messages queued before a deploy still find them."""

import uuid

from celery import shared_task

from . import delivery, services


@shared_task(name="apps.webhooks.tasks.dispatch_events", acks_late=True, reject_on_worker_lost=True)
def dispatch_events(event_ids: list[str]) -> int:
    return services.outbox_dispatch(event_ids=[uuid.UUID(event_id) for event_id in event_ids])


# Routed to the `webhooks` queue (CELERY_TASK_ROUTES): a slow receiver never holds up other work.
@shared_task(name="apps.webhooks.tasks.deliver", acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: str) -> str | None:
    attempted = delivery.delivery_attempt(delivery_id=uuid.UUID(delivery_id))
    return None if attempted is None else attempted.status


@shared_task(name="apps.webhooks.tasks.sweep_webhooks")
def sweep_webhooks() -> dict[str, int]:
    return services.webhooks_sweep()


@shared_task(name="apps.webhooks.tasks.purge_webhook_outbox")
def purge_webhook_outbox() -> int:
    return services.outbox_purge()
