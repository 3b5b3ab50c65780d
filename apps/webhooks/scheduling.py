"""Which deliveries get a queue message, and when: the fairness rules of webhook delivery.

Every message on the `webhooks` queue holds a lease on its delivery (`attempting_until`), so a
delivery has at most one message out at a time and the sweep re-queues only deliveries whose
lease ran out. Messages are handed out per endpoint and per tenant:

- an endpoint gets one message at a time, for its oldest due delivery, so at most one request is
  in flight to it and its deliveries go out in the order they were due;
- a tenant has at most WEBHOOKS_TENANT_MAX_IN_FLIGHT deliveries in flight or about to be;
- a slow endpoint's next message waits until its `next_send_at`.

A delivery that cannot be sent now holds no message: when an attempt ends, its tenant is
scheduled again (`deliveries_schedule`), and the sweep catches whatever that missed.
"""

import logging
import uuid
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

_SCHEDULE_SQL = """
WITH engaged AS (
    -- Engaged: a live lease holds it and it is running or due. Its endpoint is busy and it takes one
    -- of its tenant's slots; a lease on a retry not yet due engages nothing.
    SELECT organization_id, endpoint_id FROM webhooks_delivery f
    WHERE f.status IN ('pending', 'sending')
      AND f.attempting_until > %(now)s AND (f.status = 'sending' OR f.next_attempt_at <= %(now)s)
      AND (%(all)s OR f.organization_id = ANY(%(organizations)s::uuid[]))
), heads AS (
    -- Each idle active endpoint's delivery due longest (by when its event was raised, on a tie).
    SELECT DISTINCT ON (d.endpoint_id)
        d.id, d.organization_id, d.next_attempt_at, GREATEST(e.next_send_at, %(now)s) AS send_at
    FROM webhooks_delivery d
    JOIN webhooks_webhookendpoint e ON e.id = d.endpoint_id
    JOIN webhooks_outboxevent ev ON ev.id = d.event_id
    WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= %(now)s
      AND (%(all)s OR d.organization_id = ANY(%(organizations)s::uuid[]))
      AND e.is_active AND (e.next_send_at IS NULL OR e.next_send_at <= %(horizon)s)
      AND d.endpoint_id NOT IN (SELECT endpoint_id FROM engaged)
    ORDER BY d.endpoint_id, d.next_attempt_at, ev.created_at, d.created_at, d.id
), chosen AS (
    -- Within each tenant the endpoints that waited longest go first, as many as it has free slots.
    SELECT h.id, h.send_at FROM (
        SELECT heads.*, row_number() OVER (PARTITION BY organization_id ORDER BY next_attempt_at, id) AS place
        FROM heads
    ) h
    WHERE h.place <= %(cap)s - (SELECT count(*) FROM engaged g WHERE g.organization_id = h.organization_id)
)
UPDATE webhooks_delivery d
-- A delivery still marked sending here was abandoned by its attempt (its lease ran out): it waits again.
SET status = 'pending', attempting_until = chosen.send_at + %(lease)s
FROM chosen
WHERE d.id = chosen.id AND d.status IN ('pending', 'sending')
  AND (d.attempting_until IS NULL OR d.attempting_until <= %(now)s)
RETURNING d.id, chosen.send_at
"""


def attempt_lease() -> timedelta:
    """How long a running attempt holds its delivery: connect and read can both time out within it."""
    return timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 30)


def message_lease() -> timedelta:
    """How long a queued message holds its delivery past its send time before it is taken as lost.

    Redis hands an unacked message out again after the visibility timeout, so a message is lost
    only if the broker lost it; the lease outlasts any ordinary wait in the queue.
    """
    return timedelta(seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"])


def eta_limit_seconds() -> float:
    # Redis hands an unacked message out again after the visibility timeout, so a longer ETA would
    # be held by several workers at once; waits that long are left to the sweep instead.
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2


def delivery_publish(delivery_id: uuid.UUID | str, *, countdown: float | None = None) -> None:
    """Put one message for a delivery whose lease the caller took on the `webhooks` queue.

    If the broker is unreachable the lease runs out and the sweep queues the delivery again.
    """
    from .tasks import deliver

    try:
        deliver.apply_async((str(delivery_id),), countdown=countdown)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue webhook delivery %s, the sweep will: %s", delivery_id, error)


def deliveries_schedule(*, organization_ids: Collection[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Lease and queue what may be sent now for these tenants (every tenant if None).

    Returns the deliveries queued. Safe to run concurrently: a lease is taken by a conditional
    UPDATE, so two runs never queue the same delivery twice.
    """
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _SCHEDULE_SQL,
            {
                "now": now,
                "horizon": now + timedelta(seconds=eta_limit_seconds()),
                "all": organization_ids is None,
                "organizations": list(organization_ids or []),
                "cap": settings.WEBHOOKS_TENANT_MAX_IN_FLIGHT,
                "lease": message_lease(),
            },
        )
        chosen = cursor.fetchall()
    for delivery_id, send_at in chosen:
        wait = (send_at - now).total_seconds()
        delivery_publish(delivery_id, countdown=wait if wait > 0 else None)
    return [delivery_id for delivery_id, _ in chosen]


def deliveries_schedule_on_commit(organization_ids: Collection[uuid.UUID]) -> None:
    """Schedule these tenants once the caller's transaction commits, when its changes are visible."""
    organization_ids = list(organization_ids)
    if organization_ids:
        transaction.on_commit(lambda: deliveries_schedule(organization_ids=organization_ids))
