"""One delivery attempt: claim the delivery under the fairness rules, POST it signed, record how it went.

A claim takes the delivery only if its endpoint has no other request in flight and its tenant is
under WEBHOOKS_TENANT_MAX_IN_FLIGHT; otherwise the message is dropped and the delivery waits,
holding no message, until an attempt of its tenant ends and schedules it (scheduling.py). A
message that comes before its time (an early timer, a throttled endpoint) is put off, not spun.
Recording an attempt also measures the receiver: one whose p95 latency is over
WEBHOOKS_SLOW_P95_MS is reported slow and its attempts are spaced out.
"""

import json
import logging
import math
import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import scheduling, services, signing, transport
from .models import Delivery, OutboxEvent, WebhookEndpoint

logger = logging.getLogger(__name__)

USER_AGENT = "LedgerX-Webhooks/1"
# The p95 is judged once an endpoint has this many recent attempts, not on the first slow one.
SLOW_MIN_SAMPLES = 5
# The first key of the claims' advisory locks (the second is the tenant's): "WHKS", apart from
# the settlement locks, which use the one-bigint form.
_CLAIM_LOCK_SPACE = 0x57484B53


def retry_delay_seconds(*, attempts: int) -> float:
    """Exponential backoff with jitter: base * 2**(attempts - 1), capped, drawn from its upper half."""
    ceiling = min(settings.WEBHOOKS_RETRY_MAX_SECONDS, settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def request_body(event: OutboxEvent) -> bytes:
    """The JSON a receiver gets: the same bytes on every attempt."""
    envelope = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "organization": str(event.organization_id),
        "data": event.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def _tenant_claims_lock(organization_id: uuid.UUID) -> None:
    # Claims of one tenant take turns, so two of them never both see a free slot under the cap.
    key = (organization_id.int & 0xFFFFFFFF) - (1 << 31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CLAIM_LOCK_SPACE, key])


def _wait_reason(*, delivery: Delivery, endpoint: WebhookEndpoint, now: datetime) -> str | None:
    """Why the delivery may not be attempted now, or None. The caller holds the tenant and endpoint locks."""
    in_flight = Delivery.objects.filter(
        organization_id=delivery.organization_id, status=Delivery.Status.SENDING, attempting_until__gt=now
    ).exclude(id=delivery.id)
    if in_flight.filter(endpoint_id=endpoint.id).exists():
        return "endpoint busy"
    if in_flight.count() >= settings.WEBHOOKS_TENANT_MAX_IN_FLIGHT:
        return "tenant at its in-flight cap"
    return None


def _defer(*, delivery: Delivery, until: datetime | None, now: datetime) -> None:
    """Put the message off until `until` (the delivery keeps its lease), or drop it if that is too far off.

    A timer may fire a message a little early, and a throttled endpoint's message waits its turn.
    """
    delivery.status = Delivery.Status.PENDING  # one abandoned mid-attempt is waiting again
    delivery.attempting_until = None
    if until is not None and (until - now).total_seconds() <= scheduling.eta_limit_seconds():
        delivery.attempting_until = until + scheduling.message_lease()
        countdown = (until - now).total_seconds()
        transaction.on_commit(lambda: scheduling.delivery_publish(delivery.id, countdown=countdown))
    delivery.save(update_fields=["status", "attempting_until", "updated_at"])


def _delivery_claim(*, delivery_id: uuid.UUID) -> Delivery | None:
    """Take a due delivery for one attempt, or None if it is not due, gone, held elsewhere, or must wait."""
    owner = Delivery.objects.filter(id=delivery_id).values_list("organization_id", "endpoint_id").first()
    if owner is None:
        return None
    organization_id, endpoint_id = owner
    now = timezone.now()
    with transaction.atomic():
        _tenant_claims_lock(organization_id)
        # Endpoint, then delivery: the lock order of every writer of both.
        endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).filter(id=endpoint_id).first()
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("event")
            .filter(id=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
            .first()
        )
        if endpoint is None or delivery is None:
            return None
        if delivery.status == Delivery.Status.SENDING and delivery.attempting_until and delivery.attempting_until > now:
            return None  # a duplicate message: the attempt under way owns the delivery
        delivery.endpoint = endpoint
        delivery.updated_at = now
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            _defer(delivery=delivery, until=delivery.next_attempt_at, now=now)
            return None
        if not endpoint.is_active:
            delivery.status = Delivery.Status.PAUSED
            delivery.next_attempt_at = delivery.attempting_until = None
            delivery.save(update_fields=["status", "next_attempt_at", "attempting_until", "updated_at"])
            return None
        if endpoint.next_send_at is not None and endpoint.next_send_at > now:
            _defer(delivery=delivery, until=endpoint.next_send_at, now=now)  # a slow endpoint is spaced out
            return None
        reason = _wait_reason(delivery=delivery, endpoint=endpoint, now=now)
        if reason is not None:
            # No message until the attempt in the way ends: that schedules the tenant again.
            logger.debug("webhook delivery %s waits: %s", delivery.id, reason)
            delivery.status = Delivery.Status.PENDING
            delivery.attempting_until = None
            delivery.save(update_fields=["status", "attempting_until", "updated_at"])
            return None
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.attempting_until = now + scheduling.attempt_lease()
        delivery.save(update_fields=["status", "attempts", "attempting_until", "updated_at"])
    return delivery


def delivery_attempt(*, delivery_id: uuid.UUID) -> Delivery | None:
    """Make one attempt at a due delivery and record how it went; schedule the next one if it failed.

    Returns the delivery after the attempt, or None when there was nothing to attempt now (not
    due, done, being attempted elsewhere, or waiting its turn), which makes duplicate messages harmless.
    """
    delivery = _delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    event, endpoint = delivery.event, delivery.endpoint
    body = request_body(event)
    outcome = transport.post(
        endpoint.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "LedgerX-Event-Id": str(event.id),
            "LedgerX-Event-Type": event.type,
            "LedgerX-Delivery-Attempt": str(delivery.attempts),
            signing.SIGNATURE_HEADER: signing.sign(endpoint.secret, body),
        },
    )
    return _delivery_record(delivery_id=delivery.id, attempt=delivery.attempts, outcome=outcome)


def _p95(samples: list[int]) -> int:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _latency_observe(*, endpoint: WebhookEndpoint, latency_ms: int, now: datetime) -> None:
    """Add an attempt's latency to the endpoint's window; report and throttle it while its p95 is slow."""
    endpoint.recent_latencies_ms = [*endpoint.recent_latencies_ms, latency_ms][-settings.WEBHOOKS_SLOW_WINDOW :]
    if len(endpoint.recent_latencies_ms) >= SLOW_MIN_SAMPLES:
        endpoint.latency_p95_ms = _p95(endpoint.recent_latencies_ms)
    slow = endpoint.latency_p95_ms is not None and endpoint.latency_p95_ms > settings.WEBHOOKS_SLOW_P95_MS
    if slow and endpoint.slow_since is None:
        endpoint.slow_since = now
        logger.warning(
            "webhook endpoint %s (%s) is slow: p95 %d ms over its last %d attempts; spacing its attempts %s s apart",
            endpoint.id,
            endpoint.url,
            endpoint.latency_p95_ms,
            len(endpoint.recent_latencies_ms),
            settings.WEBHOOKS_SLOW_SPACING_SECONDS,
        )
    elif not slow and endpoint.slow_since is not None:
        endpoint.slow_since = None
        logger.info("webhook endpoint %s is no longer slow: p95 %d ms", endpoint.id, endpoint.latency_p95_ms)
    # A slow receiver gets fewer requests, never more: the next attempt waits the spacing.
    endpoint.next_send_at = now + timedelta(seconds=settings.WEBHOOKS_SLOW_SPACING_SECONDS) if slow else None


@transaction.atomic
def _delivery_record(*, delivery_id: uuid.UUID, attempt: int, outcome: transport.Outcome) -> Delivery | None:
    """Record an attempt's outcome on the delivery and on its endpoint, then free the endpoint.

    Locks the endpoint, then the delivery (the order every writer of both follows). The endpoint
    lock is FOR NO KEY UPDATE, so it does not block deliveries being inserted for the endpoint.
    """
    endpoint_id = Delivery.objects.filter(id=delivery_id).values_list("endpoint_id", flat=True).first()
    if endpoint_id is None:
        return None
    endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).filter(id=endpoint_id).first()
    delivery = Delivery.objects.select_for_update().filter(id=delivery_id).first()
    if (
        endpoint is None
        or delivery is None
        or (delivery.status, delivery.attempts) != (Delivery.Status.SENDING, attempt)
    ):
        # Deleted meanwhile, or its lease ran out and another attempt owns it now.
        return delivery
    now = timezone.now()
    delivery.last_response_code = outcome.status_code
    delivery.latency_ms = outcome.latency_ms
    delivery.attempting_until = None
    delivery.updated_at = now
    endpoint.updated_at = now
    _latency_observe(endpoint=endpoint, latency_ms=outcome.latency_ms, now=now)
    if outcome.ok:
        delivery.status = Delivery.Status.DELIVERED
        delivery.last_error = ""
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    else:
        _failure_record(delivery=delivery, endpoint=endpoint, outcome=outcome, now=now)
    endpoint.save()
    delivery.save()
    # The endpoint and a slot of its tenant are free: queue what waits for them.
    scheduling.deliveries_schedule_on_commit([delivery.organization_id])
    return delivery


def _failure_record(
    *, delivery: Delivery, endpoint: WebhookEndpoint, outcome: transport.Outcome, now: datetime
) -> None:
    delivery.last_error = outcome.error or f"The receiver answered HTTP {outcome.status_code}."
    endpoint.consecutive_failures += 1
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
        services.endpoint_disable(
            endpoint=endpoint,
            reason=(
                f"Disabled after {endpoint.consecutive_failures} consecutive failed attempts. "
                f"Last: {delivery.last_error}"
            ),
        )
        transaction.on_commit(lambda: services.endpoint_disabled_notify(endpoint_id=endpoint.id))
    if delivery.attempts >= delivery.attempt_limit:
        delivery.status = Delivery.Status.FAILED
        delivery.next_attempt_at = None
    elif not endpoint.is_active:
        # Kept for when the endpoint is enabled again, like every delivery waiting for it.
        delivery.status = Delivery.Status.PAUSED
        delivery.next_attempt_at = None
    else:
        delay = retry_delay_seconds(attempts=delivery.attempts)
        delivery.status = Delivery.Status.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        if delay <= scheduling.eta_limit_seconds():
            # The retry's own message, held by its lease; a longer wait is left to the sweep.
            delivery.attempting_until = delivery.next_attempt_at + scheduling.message_lease()
            transaction.on_commit(lambda: scheduling.delivery_publish(delivery.id, countdown=delay))
