"""Webhooks: endpoints, the transactional outbox, and delivery with retries.

An event is written to the outbox in the same database transaction as the change it describes
(`outbox_emit`), so a change that rolls back leaves no event and one that commits cannot lose
its event. After commit the event is fanned out into one delivery per subscribed endpoint, and
each delivery is POSTed, signed, until it succeeds or runs out of attempts (delivery.py), in the
order and at the pace scheduling.py decides. A disabled endpoint's deliveries are paused and go
out, in order, once it is enabled again. The beat sweep picks up whatever a lost message or a
stopped worker left behind, so delivery is at least once; the event id in every request lets
receivers drop the repeats.
"""

import logging
import secrets
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Organization, Role, User
from ledgerx.db import json_rows
from ledgerx.errors import Conflict, InvalidInput

from . import scheduling, transport
from .models import Delivery, EventType, OutboxEvent, WebhookEndpoint
from .selectors import subscribed_event_types

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
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


def webhook_endpoint_check(*, url: str, event_types: list[str]) -> None:
    """Refuse an endpoint LedgerX would not register; forms call it to show a refusal beside its field."""
    _clean_url(url)
    _clean_event_types(event_types)


def _endpoint_state(endpoint: WebhookEndpoint) -> dict:
    """What the audit log keeps of an endpoint: never its secret, only that it changed."""
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "is_active": endpoint.is_active,
    }


def webhook_endpoint_create(
    *,
    organization: Organization,
    url: str,
    event_types: list[str],
    description: str = "",
    actor: User | None = None,
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret. The URL is checked against the SSRF guard.

    `actor` is who asked (None when the platform itself does it); the change is audited.
    """
    url = _clean_url(url)
    event_types = _clean_event_types(event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            event_types=event_types,
            description=description.strip(),
            secret=_secret(),
        )
        audit_record(actor=actor, action="webhook_endpoint.created", target=endpoint, after=_endpoint_state(endpoint))
    return endpoint


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    rotate_secret: bool = False,
    actor: User | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Disabling one pauses its waiting deliveries; enabling it again clears its
    failure count and sends its paused deliveries, oldest first. A change is audited with its `actor`.

    The URL is resolved before the endpoint's row is locked, so a slow DNS answer never holds the lock.
    """
    url = None if url is None else _clean_url(url)
    event_types = None if event_types is None else _clean_event_types(event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
        before = _endpoint_state(endpoint)
        if url is not None:
            endpoint.url = url
        if event_types is not None:
            endpoint.event_types = event_types
        if description is not None:
            endpoint.description = description.strip()
        if rotate_secret:
            endpoint.secret = _secret()
        if is_active is True and not endpoint.is_active:
            _endpoint_enable(endpoint=endpoint)
        elif is_active is False and endpoint.is_active:
            endpoint_disable(endpoint=endpoint, reason="Disabled by an admin.")
        endpoint.updated_at = timezone.now()
        endpoint.save()
        after = _endpoint_state(endpoint)
        if rotate_secret:
            after["secret_rotated"] = True
        if after != before:
            audit_record(actor=actor, action="webhook_endpoint.updated", target=endpoint, before=before, after=after)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None = None) -> None:
    """Delete an endpoint and its delivery log. Events stay in the outbox.

    The endpoint's row is locked before its deliveries are deleted: endpoint first, then its
    deliveries, as every writer of both does, so a delete never deadlocks with a delivery.
    """
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    audit_record(actor=actor, action="webhook_endpoint.deleted", target=endpoint, before=_endpoint_state(endpoint))
    endpoint.delete()


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """The caller holds the endpoint's row lock and saves it. Its waiting deliveries are paused, not failed."""
    now = timezone.now()
    endpoint.is_active = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.PAUSED, next_attempt_at=None, attempting_until=None, updated_at=now
    )


def _endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """The caller holds the endpoint's row lock and saves it. Its paused deliveries are due again, all at once,
    so they go out in the order their events were raised (scheduling.py), one at a time."""
    now = timezone.now()
    endpoint.is_active = True
    endpoint.disabled_reason = ""
    endpoint.consecutive_failures = 0
    endpoint.updated_at = now
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PAUSED).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, attempting_until=None, updated_at=now
    )
    scheduling.deliveries_schedule_on_commit([endpoint.organization_id])


def endpoint_disabled_notify(*, endpoint_id: uuid.UUID) -> None:
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
                "Events raised while it is disabled are kept for it, paused. Once the receiver is fixed, enable it "
                f'again with PATCH /api/v1/webhooks/endpoints/{endpoint.id} {{"is_active": true}}: the paused '
                "deliveries are then sent in the order their events were raised."
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
    # An event no endpoint subscribes to has nothing to fan out: it is stored dispatched, and no
    # dispatch task is queued for it. An organization without webhooks pays nothing for them.
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


def outbox_dispatch(*, event_ids: list[uuid.UUID | str]) -> int:
    """Fan undispatched events out into one delivery per endpoint subscribed to their type.

    A disabled endpoint's delivery is created paused, so it is sent once the endpoint is enabled.
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
            organization_id__in={event.organization_id for event in events}
        ).only("id", "organization_id", "event_types", "is_active"):
            endpoints[endpoint.organization_id].append(endpoint)
        now = timezone.now()
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(
                    organization_id=event.organization_id,
                    event_id=event.id,
                    endpoint_id=endpoint.id,
                    attempt_limit=settings.WEBHOOKS_MAX_ATTEMPTS,
                    status=Delivery.Status.PENDING if endpoint.is_active else Delivery.Status.PAUSED,
                    next_attempt_at=now if endpoint.is_active else None,
                    created_at=now,
                    updated_at=now,
                )
                for event in events
                for endpoint in endpoints[event.organization_id]
                if event.type in endpoint.event_types
            ]
        )
        OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(dispatched_at=now)
        scheduling.deliveries_schedule_on_commit({delivery.organization_id for delivery in deliveries})
    return len(deliveries)


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery's event to its endpoint once more, now, with the same event id.

    A pending delivery keeps its remaining retries and is simply brought forward. It goes out
    when its endpoint is free, after the deliveries that were due before it.
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
    delivery.attempting_until = None  # a retry's message would come later than now
    delivery.updated_at = now
    delivery.save(update_fields=["status", "attempt_limit", "next_attempt_at", "attempting_until", "updated_at"])
    scheduling.deliveries_schedule_on_commit([delivery.organization_id])
    return delivery


def webhooks_sweep() -> dict[str, int]:
    """Dispatch events whose dispatch message was lost, and queue deliveries that no lease holds.

    This is what makes a lost queue message, a stopped worker or a retry wait longer than a
    message can safely be held harmless. A delivery whose message is queued or whose attempt is
    running holds a lease and is left alone, so the queue never holds two messages for one delivery.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.WEBHOOKS_SWEEP_AFTER_SECONDS)
    event_ids = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    if event_ids:
        outbox_dispatch(event_ids=event_ids)
    queued = scheduling.deliveries_schedule()
    return {"events": len(event_ids), "deliveries": len(queued)}


def outbox_purge() -> int:
    """Delete events older than WEBHOOKS_RETENTION_DAYS, with their delivery log, once nothing is left to send.

    A paused delivery is still to send: its event stays until the endpoint is enabled or deleted.

    Returns how many events were deleted; a large backlog is worked off over several runs.
    """
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    expired = (
        OutboxEvent.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
        .exclude(deliveries__status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING, Delivery.Status.PAUSED])
        .values_list("id", flat=True)[:PURGE_BATCH]
    )
    _, deleted = OutboxEvent.objects.filter(id__in=list(expired)).delete()
    return deleted.get(OutboxEvent._meta.label, 0)
