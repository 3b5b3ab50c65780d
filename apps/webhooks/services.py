"""Webhooks: endpoints, the transactional outbox, and delivery with retries.

An event is written to the outbox in the same database transaction as the change it describes
(`outbox_emit`), so a change that rolls back leaves no event and one that commits cannot lose
its event. After commit the event is fanned out into one delivery per subscribed endpoint, and
each delivery is POSTed, signed, until it succeeds or runs out of attempts. The beat sweep picks
up whatever a lost message or a stopped worker left behind, so delivery is at least once; the
event id in every request lets receivers drop the repeats.
"""

import json
import logging
import random
import secrets
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from apps.tenancy.models import Organization, Role, User
from ledgerx.db import json_rows
from ledgerx.errors import Conflict, InvalidInput

from . import signing, transport
from .models import Delivery, EventType, OutboxEvent, WebhookEndpoint
from .selectors import subscribed_event_types

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
USER_AGENT = "LedgerX-Webhooks/1"
URL_MAX_LENGTH = 2000
# Most events or deliveries one sweep picks up; the next sweep takes the rest.
SWEEP_BATCH = 500
# Most events one purge deletes, so that it never holds long locks on the outbox.
PURGE_BATCH = 10_000


def _secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise InvalidInput("A webhook needs a URL.", fields={"url": ["This field is required."]})
    if len(url) > URL_MAX_LENGTH:
        raise InvalidInput("The URL is too long.", fields={"url": [f"At most {URL_MAX_LENGTH} characters."]})
    try:
        transport.resolve(url)
    except transport.UnsafeURL as error:
        raise InvalidInput(str(error), fields={"url": [str(error)]}) from None
    return url


def _clean_event_types(event_types: list[str]) -> list[str]:
    if not event_types:
        raise InvalidInput("Choose at least one event type.", fields={"event_types": ["This list may not be empty."]})
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}.", fields={"event_types": [f"Unknown: {', '.join(unknown)}."]}
        )
    return sorted(set(event_types))


def webhook_endpoint_create(
    *, organization: Organization, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret. The URL is checked against the SSRF guard."""
    url = _clean_url(url)
    event_types = _clean_event_types(event_types)
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            event_types=event_types,
            description=description.strip(),
            secret=_secret(),
        )


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    """Change an endpoint. Re-enabling one clears its failure count; disabling one fails its pending deliveries.

    The URL is resolved before the endpoint's row is locked, so a slow DNS answer never holds the lock.
    """
    url = None if url is None else _clean_url(url)
    event_types = None if event_types is None else _clean_event_types(event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
        if url is not None:
            endpoint.url = url
        if event_types is not None:
            endpoint.event_types = event_types
        if description is not None:
            endpoint.description = description.strip()
        if rotate_secret:
            endpoint.secret = _secret()
        if is_active is True and not endpoint.is_active:
            endpoint.is_active = True
            endpoint.disabled_reason = ""
            endpoint.consecutive_failures = 0
        elif is_active is False and endpoint.is_active:
            _endpoint_disable(endpoint=endpoint, reason="Disabled by an admin.")
        endpoint.updated_at = timezone.now()
        endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint and its delivery log. Events stay in the outbox.

    The endpoint's row is locked before its deliveries are deleted: endpoint first, then its
    deliveries, as every writer of both does, so a delete never deadlocks with a delivery.
    """
    WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk).delete()


def _endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """The caller holds the endpoint's row lock and saves it. Its pending deliveries fail now."""
    now = timezone.now()
    endpoint.is_active = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, last_error="The endpoint was disabled.", next_attempt_at=None, updated_at=now
    )


def _endpoint_disabled_notify(*, endpoint_id: uuid.UUID) -> None:
    """Tell the organization's admins that an endpoint was disabled. A mail failure is logged, never raised."""
    endpoint = WebhookEndpoint.objects.get(id=endpoint_id)
    recipients = list(
        User.objects.of(endpoint.organization)
        .filter(role=Role.ORG_ADMIN, is_active=True)
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    try:
        send_mail(
            subject=f"LedgerX webhook disabled: {endpoint.url}",
            message=(
                f"LedgerX stopped sending events to {endpoint.url} (endpoint {endpoint.id}).\n\n"
                f"{endpoint.disabled_reason}\n\n"
                "Events raised while it is disabled are not sent to it. Once the receiver is fixed, enable it again "
                f'with PATCH /api/v1/webhooks/endpoints/{endpoint.id} {{"is_active": true}} and redeliver the '
                "failed deliveries you need from its delivery log."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the endpoint is disabled either way; a mail outage must not undo that
        logger.exception("could not tell the admins that webhook endpoint %s was disabled", endpoint.id)


def outbox_emit(*, organization_id: uuid.UUID, event_type: str, payload: dict) -> uuid.UUID:
    """Write one event in the caller's transaction; it is dispatched once that transaction commits.

    Returns the event id.
    """
    return outbox_emit_many(organization_id=organization_id, events=[(event_type, payload)])[0]


def outbox_emit_many(*, organization_id: uuid.UUID, events: list[tuple[str, dict]]) -> list[uuid.UUID]:
    """Write events (type, payload) with one INSERT in the caller's transaction; dispatch them after it commits.

    It must run inside the transaction of the change the events describe: that is what makes a
    rolled-back change leave no event and a committed one keep its event. Returns the event ids.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_emit must run inside the transaction of the change it describes")
    unknown = {event_type for event_type, _ in events} - set(EventType.values)
    if unknown:
        raise ValueError(f"unknown webhook event types: {sorted(unknown)}")
    if not events:
        return []
    event_ids = [uuid.uuid4() for _ in events]
    # An event no active endpoint subscribes to has nothing to fan out: it is stored dispatched, and
    # no dispatch task is queued for it. An organization without webhooks pays nothing for them.
    subscribed = subscribed_event_types(organization_id=organization_id)
    now = timezone.now()
    # orjson writes uuids and datetimes as JSON text itself.
    rows = [
        {
            "id": event_id,
            "type": event_type,
            "payload": payload,
            "dispatched_at": None if event_type in subscribed else now,
        }
        for event_id, (event_type, payload) in zip(event_ids, events, strict=True)
    ]
    # One JSON document for the whole batch: a settlement batch of a thousand spends pays one
    # statement and one parameter, not a thousand rows of ORM objects and per-value quoting.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO webhooks_outboxevent (id, organization_id, type, payload, created_at, dispatched_at)
            SELECT v.id, %s, v.type, v.payload, %s, v.dispatched_at
            FROM jsonb_to_recordset(%s::jsonb) AS v(id uuid, type text, payload jsonb, dispatched_at timestamptz)
            """,
            [organization_id, now, json_rows(rows)],
        )
    dispatch_ids = [str(row["id"]) for row in rows if row["dispatched_at"] is None]
    if dispatch_ids:
        transaction.on_commit(lambda: _dispatch_request(dispatch_ids))
    return event_ids


def _dispatch_request(event_ids: list[str]) -> None:
    """Queue the fan-out. If the broker is unreachable the events wait for the sweep."""
    from .tasks import dispatch_events

    try:
        dispatch_events.delay(event_ids)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue webhook dispatch, the sweep will: %s", error)


def _delivery_request(delivery_ids: list[str], *, countdown: float | None = None) -> None:
    """Queue delivery attempts. If the broker is unreachable the deliveries wait for the sweep."""
    from .tasks import deliver

    try:
        for delivery_id in delivery_ids:
            deliver.apply_async((delivery_id,), countdown=countdown)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue webhook delivery, the sweep will: %s", error)


def outbox_dispatch(*, event_ids: list[uuid.UUID | str]) -> int:
    """Fan undispatched events out into one delivery per active endpoint subscribed to their type.

    Each event is dispatched once: rows another worker is dispatching are skipped, and an event
    already dispatched is left alone. Returns how many deliveries were created.
    """
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(id__in=event_ids, dispatched_at__isnull=True)
            .only("id", "organization_id", "type")
        )
        if not events:
            return 0
        endpoints = defaultdict(list)
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id__in={event.organization_id for event in events}, is_active=True
        ).only("id", "organization_id", "event_types"):
            endpoints[endpoint.organization_id].append(endpoint)
        now = timezone.now()
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(
                    organization_id=event.organization_id,
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    attempt_limit=settings.WEBHOOKS_MAX_ATTEMPTS,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for event in events
                for endpoint in endpoints[event.organization_id]
                if event.type in endpoint.event_types
            ]
        )
        OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=now)
        delivery_ids = [str(delivery.id) for delivery in deliveries]
        transaction.on_commit(lambda: _delivery_request(delivery_ids))
    return len(deliveries)


def retry_delay_seconds(*, attempts: int) -> float:
    """Exponential backoff with jitter: base * 2**(attempts - 1), capped, drawn from its upper half."""
    ceiling = min(settings.WEBHOOKS_RETRY_MAX_SECONDS, settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def _lease() -> timedelta:
    # Long enough for connect and read to time out; a claim older than this was lost with its worker.
    return timedelta(seconds=2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 30)


def _eta_limit_seconds() -> float:
    # Redis hands an unacked message out again after the visibility timeout, so a longer ETA would
    # be held by several workers at once; waits that long are left to the sweep instead.
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] / 2


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


def _delivery_claim(*, delivery_id: uuid.UUID) -> Delivery | None:
    """Take a due delivery for one attempt, or None if it is not due, gone, or someone else holds it."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(
                id=delivery_id,
                status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING],
                next_attempt_at__lte=now,
            )
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.is_active:
            delivery.status = Delivery.Status.FAILED
            delivery.last_error = "The endpoint was disabled."
            delivery.next_attempt_at = None
        else:
            delivery.status = Delivery.Status.SENDING
            delivery.attempts += 1
            delivery.next_attempt_at = now + _lease()
        delivery.updated_at = now
        delivery.save(update_fields=["status", "attempts", "last_error", "next_attempt_at", "updated_at"])
    return delivery if delivery.status == Delivery.Status.SENDING else None


def delivery_attempt(*, delivery_id: uuid.UUID) -> Delivery | None:
    """Make one attempt at a due delivery and record how it went; schedule the next one if it failed.

    Returns the delivery after the attempt, or None when there was nothing to attempt (not due,
    already delivered, or being attempted elsewhere), which makes duplicate messages harmless.
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
    return _delivery_record(delivery_id=delivery.id, outcome=outcome)


@transaction.atomic
def _delivery_record(*, delivery_id: uuid.UUID, outcome: transport.Outcome) -> Delivery | None:
    """Record an attempt's outcome on the delivery and on its endpoint's failure count.

    Locks the endpoint, then the delivery (the order every writer of both follows). The endpoint
    lock is FOR NO KEY UPDATE, so it does not block deliveries being inserted for the endpoint.
    """
    endpoint_id = Delivery.objects.filter(id=delivery_id).values_list("endpoint_id", flat=True).first()
    if endpoint_id is None:
        return None
    endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).filter(id=endpoint_id).first()
    delivery = Delivery.objects.select_for_update().filter(id=delivery_id).first()
    if endpoint is None or delivery is None or delivery.status != Delivery.Status.SENDING:
        # Deleted meanwhile, or its lease ran out and another attempt owns it now.
        return delivery
    now = timezone.now()
    delivery.last_response_code = outcome.status_code
    delivery.latency_ms = outcome.latency_ms
    delivery.updated_at = now
    endpoint.updated_at = now
    if outcome.ok:
        delivery.status = Delivery.Status.DELIVERED
        delivery.last_error = ""
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.consecutive_failures = 0
    else:
        delivery.last_error = outcome.error or f"The receiver answered HTTP {outcome.status_code}."
        endpoint.consecutive_failures += 1
        if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
            _endpoint_disable(
                endpoint=endpoint,
                reason=(
                    f"Disabled after {endpoint.consecutive_failures} consecutive failed attempts. "
                    f"Last: {delivery.last_error}"
                ),
            )
            transaction.on_commit(lambda: _endpoint_disabled_notify(endpoint_id=endpoint.id))
        if endpoint.is_active and delivery.attempts < delivery.attempt_limit:
            delay = retry_delay_seconds(attempts=delivery.attempts)
            delivery.status = Delivery.Status.PENDING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            if delay <= _eta_limit_seconds():
                transaction.on_commit(lambda: _delivery_request([str(delivery.id)], countdown=delay))
        else:
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt_at = None
    endpoint.save(update_fields=["consecutive_failures", "is_active", "disabled_reason", "updated_at"])
    delivery.save()
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery's event to its endpoint once more, now, with the same event id.

    A pending delivery keeps its remaining retries and is simply brought forward.
    """
    delivery = Delivery.objects.select_for_update(of=("self",)).select_related("endpoint", "event").get(pk=delivery.pk)
    if not delivery.endpoint.is_active:
        raise Conflict("The endpoint is disabled; enable it before redelivering.")
    if delivery.status == Delivery.Status.SENDING:
        raise Conflict("This delivery is being sent right now.")
    now = timezone.now()
    if delivery.status != Delivery.Status.PENDING:
        delivery.status = Delivery.Status.PENDING
        delivery.attempt_limit = delivery.attempts + 1
    delivery.next_attempt_at = now
    delivery.updated_at = now
    delivery.save(update_fields=["status", "attempt_limit", "next_attempt_at", "updated_at"])
    transaction.on_commit(lambda: _delivery_request([str(delivery.id)]))
    return delivery


def webhooks_sweep() -> dict[str, int]:
    """Dispatch events whose dispatch message was lost, and queue deliveries overdue for their attempt.

    This is what makes a lost queue message, a stopped worker or a retry wait longer than a
    message can safely be held harmless.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.WEBHOOKS_SWEEP_AFTER_SECONDS)
    event_ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    if event_ids:
        outbox_dispatch(event_ids=event_ids)
    due = [
        str(delivery_id)
        for delivery_id in Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING], next_attempt_at__lt=cutoff
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    ]
    _delivery_request(due)
    return {"events": len(event_ids), "deliveries": len(due)}


def outbox_purge() -> int:
    """Delete events older than WEBHOOKS_RETENTION_DAYS, with their delivery log, once nothing is left to send.

    Returns how many events were deleted; a large backlog is worked off over several runs.
    """
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    expired = (
        OutboxEvent.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
        .exclude(deliveries__status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])
        .values_list("id", flat=True)[:PURGE_BATCH]
    )
    _, deleted = OutboxEvent.objects.filter(id__in=list(expired)).delete()
    return deleted.get(OutboxEvent._meta.label, 0)
