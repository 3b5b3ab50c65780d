"""The webhook services: endpoints, the outbox, fan-out, attempts, retries, disabling, redelivery, the sweep."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.spending import services as spending_services
from apps.webhooks import services, signing
from apps.webhooks.delivery import delivery_attempt, retry_delay_seconds
from apps.webhooks.events import thresholds_crossed
from apps.webhooks.models import Delivery, EventType, OutboxEvent, WebhookEndpoint
from ledgerx.errors import Conflict, InvalidInput
from tests.conftest import Tenant
from tests.webhooks.conftest import emit, endpoint_for


def _delivery(tenant, receiver, **endpoint_kwargs) -> Delivery:
    endpoint = endpoint_for(tenant, receiver.url, **endpoint_kwargs)
    event = emit(tenant)
    services.outbox_dispatch(event_ids=[event.id])
    return Delivery.objects.get(event=event, endpoint=endpoint)


def _make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())


# Endpoints


def test_an_endpoint_gets_a_generated_secret_and_its_event_types_deduplicated(tenant):
    endpoint = services.webhook_endpoint_create(
        organization=tenant.organization,
        url="https://93.184.215.14/hooks",
        event_types=["transaction.rejected", "transaction.posted", "transaction.rejected"],
        description=" ERP ",
    )
    other = endpoint_for(tenant, "https://93.184.215.14/other")
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.secret != other.secret
    assert endpoint.event_types == ["transaction.posted", "transaction.rejected"]
    assert endpoint.description == "ERP"
    assert endpoint.is_active


@pytest.mark.parametrize(
    ("url", "event_types", "field"),
    [
        ("", ["transaction.posted"], "url"),
        ("ftp://93.184.215.14/", ["transaction.posted"], "url"),
        ("https://93.184.215.14/" + "a" * 2000, ["transaction.posted"], "url"),
        ("https://93.184.215.14/", [], "event_types"),
        ("https://93.184.215.14/", ["transaction.posted", "payment.sent"], "event_types"),
    ],
)
def test_an_endpoint_with_a_bad_url_or_event_types_is_refused(tenant, url, event_types, field):
    with pytest.raises(InvalidInput) as refusal:
        services.webhook_endpoint_create(organization=tenant.organization, url=url, event_types=event_types)
    assert field in refusal.value.fields
    assert not WebhookEndpoint.objects.exists()


def test_a_private_url_is_refused_at_registration_unless_allowed(tenant, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput, match="private, loopback or reserved"):
        endpoint_for(tenant, "http://127.0.0.1:9000/hook")
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert endpoint_for(tenant, "http://127.0.0.1:9000/hook").url == "http://127.0.0.1:9000/hook"


def test_rotating_the_secret_and_changing_the_subscription(tenant):
    endpoint = endpoint_for(tenant, "https://93.184.215.14/hooks")
    old_secret = endpoint.secret
    updated = services.webhook_endpoint_update(
        endpoint=endpoint, event_types=["budget.threshold_crossed"], rotate_secret=True
    )
    assert updated.secret != old_secret and updated.secret.startswith("whsec_")
    assert updated.event_types == ["budget.threshold_crossed"]


# The outbox


@pytest.mark.django_db(transaction=True)  # outside the test's wrapping transaction there is no atomic block
def test_outbox_emit_refuses_to_run_outside_the_transaction_of_a_change(tenant):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.outbox_emit(organization_id=tenant.organization.id, event_type="transaction.posted", payload={})
    assert not OutboxEvent.objects.exists()


def test_outbox_emit_refuses_an_unknown_event_type(tenant):
    with pytest.raises(ValueError, match="unknown webhook event types"):
        emit(tenant, event_type="payment.sent")


def test_approval_and_fraud_event_types_are_supported(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url, event_types=["approval.requested", "fraud.alert.created"])
    events = [emit(tenant, "approval.requested"), emit(tenant, "approval.decided"), emit(tenant, "fraud.alert.created")]
    services.outbox_dispatch(event_ids=[event.id for event in events])
    assert sorted(d.event.type for d in Delivery.objects.filter(endpoint=endpoint)) == [
        "approval.requested",
        "fraud.alert.created",
    ]


def test_dispatch_fans_out_once_to_the_subscribed_endpoints_of_the_organization(tenant, other_tenant):
    subscribed = endpoint_for(tenant, "https://93.184.215.14/a", event_types=["transaction.posted"])
    endpoint_for(tenant, "https://93.184.215.14/b", event_types=["transaction.rejected"])
    disabled = endpoint_for(tenant, "https://93.184.215.14/c", event_types=["transaction.posted"])
    services.webhook_endpoint_update(endpoint=disabled, is_active=False)
    endpoint_for(other_tenant, "https://93.184.215.14/d", event_types=["transaction.posted"])
    event = emit(tenant, "transaction.posted")

    assert services.outbox_dispatch(event_ids=[event.id]) == 2
    # The disabled endpoint's delivery is kept, paused, for when it is enabled again.
    assert {(d.endpoint, d.organization, d.status) for d in Delivery.objects.all()} == {
        (subscribed, tenant.organization, Delivery.Status.PENDING),
        (disabled, tenant.organization, Delivery.Status.PAUSED),
    }
    assert OutboxEvent.objects.get().dispatched_at is not None
    assert services.outbox_dispatch(event_ids=[event.id]) == 0
    assert Delivery.objects.count() == 2


def test_an_event_no_endpoint_subscribes_to_is_stored_dispatched_and_queues_nothing(
    tenant, django_capture_on_commit_callbacks
):
    endpoint_for(tenant, "https://93.184.215.14/a", event_types=["transaction.rejected"])
    endpoint_for(tenant, "https://93.184.215.14/b", event_types=["budget.threshold_crossed"])
    with django_capture_on_commit_callbacks() as callbacks:
        unsubscribed = emit(tenant, "transaction.posted")
    assert OutboxEvent.objects.get(id=unsubscribed.id).dispatched_at is not None
    assert callbacks == []
    assert services.outbox_dispatch(event_ids=[unsubscribed.id]) == 0

    with django_capture_on_commit_callbacks() as callbacks:
        subscribed = emit(tenant, "transaction.rejected")
    assert OutboxEvent.objects.get(id=subscribed.id).dispatched_at is None
    assert len(callbacks) == 1
    assert services.outbox_dispatch(event_ids=[subscribed.id]) == 1


# Events from the money path


def test_thresholds_crossed_only_upwards_and_only_once():
    assert thresholds_crossed(before_minor=0, after_minor=79, limit_minor=100) == []
    assert thresholds_crossed(before_minor=0, after_minor=80, limit_minor=100) == [80]
    assert thresholds_crossed(before_minor=79, after_minor=100, limit_minor=100) == [80, 100]
    assert thresholds_crossed(before_minor=80, after_minor=99, limit_minor=100) == []
    assert thresholds_crossed(before_minor=90, after_minor=100, limit_minor=100) == [100]
    assert thresholds_crossed(before_minor=100, after_minor=100, limit_minor=100) == []
    assert thresholds_crossed(before_minor=0, after_minor=0, limit_minor=0) == []


def _submit(user, key: str, amount: str):
    spend, _ = spending_services.transaction_submit(
        user=user, idempotency_key=key, amount=amount, currency="USD", merchant="Dell", category="equipment"
    )
    return spend


def _payloads(event_type: str) -> list[dict]:
    return [event.payload for event in OutboxEvent.objects.filter(type=event_type)]


@pytest.mark.django_db(transaction=True)  # settlement takes the organization's lock outside any transaction
def test_settlement_emits_posted_rejected_and_budget_threshold_events_in_its_batch(db):
    tenant = Tenant("Acme", limit_minor=100_000)  # $1,000 a month
    spends = [
        _submit(tenant.employee, "s1", "500.00"),
        _submit(tenant.employee, "s2", "350.00"),  # 850: crosses 80%
        _submit(tenant.other_employee, "s3", "200.00"),  # 1,050 would exceed the limit
        _submit(tenant.employee, "s4", "150.00"),  # 1,000: crosses 100%
    ]
    result = spending_services.settlement_run(organization_id=tenant.organization.id)
    assert result.settled == 4

    posted = {p["transaction"]["id"]: p for p in _payloads(EventType.TRANSACTION_POSTED)}
    assert set(posted) == {str(spends[i].id) for i in (0, 1, 3)}
    assert posted[str(spends[0].id)]["transaction"] == {
        "id": str(spends[0].id),
        "status": "posted",
        "amount": "500.00",
        "currency": "USD",
        "original_amount": "500.00",
        "original_currency": "USD",
        "fx_rate": "1",
        "fx_rate_date": None,
        "merchant": "Dell",
        "category": "equipment",
        "department": {"id": str(tenant.department.id), "name": "Engineering"},
        "employee": {"id": str(tenant.employee.id), "email": tenant.employee.email},
        "rejection_reason": "",
    }
    [rejected] = _payloads(EventType.TRANSACTION_REJECTED)
    assert rejected["transaction"]["id"] == str(spends[2].id)
    assert rejected["transaction"]["employee"]["email"] == tenant.other_employee.email
    assert rejected["transaction"]["rejection_reason"] == (
        "Department 'Engineering' budget exceeded. Limit: $1,000, Current (spent plus held): $850, Requested: $200"
    )
    thresholds = sorted(_payloads(EventType.BUDGET_THRESHOLD_CROSSED), key=lambda t: t["budget"]["threshold_percent"])
    assert [(t["budget"]["threshold_percent"], t["budget"]["spent"], t["budget"]["limit"]) for t in thresholds] == [
        (80, "1000.00", "1000.00"),
        (100, "1000.00", "1000.00"),
    ]
    assert thresholds[0]["budget"]["department"] == {"id": str(tenant.department.id), "name": "Engineering"}
    assert thresholds[0]["budget"]["period"] == f"{spends[0].budget_month:%Y-%m}"
    assert all(e.organization_id == tenant.organization.id for e in OutboxEvent.objects.all())


@pytest.mark.django_db(transaction=True)  # settlement takes the organization's lock outside any transaction
def test_a_threshold_is_reported_in_the_batch_that_crosses_it_and_not_again(db):
    tenant = Tenant("Acme", limit_minor=100_000)
    _submit(tenant.employee, "s1", "790.00")
    spending_services.settlement_run(organization_id=tenant.organization.id)
    assert _payloads(EventType.BUDGET_THRESHOLD_CROSSED) == []
    _submit(tenant.employee, "s2", "20.00")
    spending_services.settlement_run(organization_id=tenant.organization.id)
    _submit(tenant.employee, "s3", "20.00")
    spending_services.settlement_run(organization_id=tenant.organization.id)
    assert [t["budget"]["threshold_percent"] for t in _payloads(EventType.BUDGET_THRESHOLD_CROSSED)] == [80]


@pytest.mark.django_db(transaction=True)  # reversal takes the organization's lock outside any transaction
def test_a_reversal_emits_transaction_reversed(db):
    tenant = Tenant("Acme")
    spend = _submit(tenant.employee, "s1", "75.00")
    spending_services.settlement_run(organization_id=tenant.organization.id)
    reversal, _ = spending_services.transaction_reverse(
        actor=tenant.finance, original_id=spend.id, reason="Duplicate charge", idempotency_key="r1"
    )
    [payload] = _payloads(EventType.TRANSACTION_REVERSED)
    assert payload["transaction"]["id"] == str(spend.id)
    assert payload["transaction"]["status"] == "reversed"
    assert payload["transaction"]["amount"] == "75.00"
    assert payload["transaction"]["employee"]["email"] == tenant.employee.email
    assert payload["reversal"] == {"id": str(reversal.id), "reason": "Duplicate charge"}


# Attempts


def test_a_successful_attempt_is_signed_and_recorded(tenant, receiver):
    delivery = _delivery(tenant, receiver)
    delivered = delivery_attempt(delivery_id=delivery.id)
    assert delivered.status == Delivery.Status.DELIVERED
    assert (delivered.attempts, delivered.last_response_code, delivered.last_error) == (1, 200, "")
    assert delivered.latency_ms is not None and delivered.delivered_at is not None
    assert delivered.next_attempt_at is None
    [request] = receiver.requests
    assert signing.verify(delivery.endpoint.secret, request.headers["LedgerX-Signature"], request.body)
    assert request.headers["LedgerX-Event-Id"] == str(delivery.event_id)
    assert request.headers["LedgerX-Event-Type"] == "transaction.posted"
    assert request.headers["LedgerX-Delivery-Attempt"] == "1"
    assert json.loads(request.body) == {
        "id": str(delivery.event_id),
        "type": "transaction.posted",
        "created_at": delivery.event.created_at.isoformat(),
        "organization": str(tenant.organization.id),
        "data": {"n": 1},
    }


def test_a_failed_attempt_schedules_a_retry_and_a_duplicate_message_sends_nothing(tenant, receiver):
    receiver.script = [500]
    delivery = _delivery(tenant, receiver)
    before = timezone.now()
    failed = delivery_attempt(delivery_id=delivery.id)
    assert failed.status == Delivery.Status.PENDING
    assert (failed.attempts, failed.last_response_code) == (1, 500)
    assert failed.last_error == "The receiver answered HTTP 500."
    assert failed.next_attempt_at > before
    assert WebhookEndpoint.objects.get().consecutive_failures == 1

    assert delivery_attempt(delivery_id=delivery.id) is None  # not due yet
    assert len(receiver.requests) == 1

    _make_due(delivery)
    assert delivery_attempt(delivery_id=delivery.id).status == Delivery.Status.DELIVERED
    assert WebhookEndpoint.objects.get().consecutive_failures == 0
    assert delivery_attempt(delivery_id=delivery.id) is None  # already delivered
    assert len(receiver.requests) == 2


def test_a_delivery_fails_for_good_after_its_last_attempt(tenant, receiver, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.script = [500, 502]
    delivery = _delivery(tenant, receiver)
    delivery_attempt(delivery_id=delivery.id)
    _make_due(delivery)
    final = delivery_attempt(delivery_id=delivery.id)
    assert (final.status, final.attempts, final.last_response_code) == (Delivery.Status.FAILED, 2, 502)
    assert final.next_attempt_at is None


def test_an_address_that_turned_private_is_refused_at_delivery(tenant, receiver, settings):
    delivery = _delivery(tenant, receiver)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    attempted = delivery_attempt(delivery_id=delivery.id)
    assert attempted.status == Delivery.Status.PENDING
    assert attempted.last_response_code is None
    assert "private, loopback or reserved" in attempted.last_error
    assert receiver.requests == []


def test_retry_waits_grow_exponentially_with_jitter_up_to_the_cap(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 10
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    for attempts, ceiling in [(1, 10), (2, 20), (4, 80), (12, 3600), (40, 3600)]:
        waits = [retry_delay_seconds(attempts=attempts) for _ in range(50)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert len(set(waits)) > 1


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_admins_told(
    tenant, receiver, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.script = [500, 500]
    first = _delivery(tenant, receiver)
    waiting = Delivery.objects.create(
        organization=tenant.organization,
        event=emit(tenant),
        endpoint=first.endpoint,
        attempt_limit=10,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    second = Delivery.objects.create(
        organization=tenant.organization, event=emit(tenant), endpoint=first.endpoint, attempt_limit=10
    )
    delivery_attempt(delivery_id=first.id)
    assert WebhookEndpoint.objects.get().is_active
    with django_capture_on_commit_callbacks(execute=True):
        Delivery.objects.filter(id=second.id).update(next_attempt_at=timezone.now())
        delivery_attempt(delivery_id=second.id)

    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == (
        "Disabled after 2 consecutive failed attempts. Last: The receiver answered HTTP 500."
    )
    # Nothing is lost: `first` and `waiting` were pending their next attempt and `second` has attempts
    # left, so all three are paused, kept for when the endpoint is enabled again.
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.PAUSED}
    assert Delivery.objects.get(id=waiting.id).next_attempt_at is None
    [mail] = mailoutbox
    assert mail.to == [tenant.admin.email]
    assert endpoint.url in mail.subject and str(endpoint.id) in mail.body


def test_re_enabling_an_endpoint_clears_its_failures(tenant):
    endpoint = endpoint_for(tenant, "https://93.184.215.14/hooks")
    WebhookEndpoint.objects.filter(id=endpoint.id).update(consecutive_failures=7)
    services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
    assert WebhookEndpoint.objects.get().disabled_reason == "Disabled by an admin."
    enabled = services.webhook_endpoint_update(endpoint=endpoint, is_active=True)
    assert (enabled.is_active, enabled.disabled_reason, enabled.consecutive_failures) == (True, "", 0)


# Redelivery


def test_redelivery_sends_the_same_event_once_more(tenant, receiver):
    delivery = _delivery(tenant, receiver)
    delivery_attempt(delivery_id=delivery.id)
    redelivered = services.delivery_redeliver(delivery=delivery)
    assert (redelivered.status, redelivered.attempt_limit) == (Delivery.Status.PENDING, 2)
    assert delivery_attempt(delivery_id=delivery.id).attempts == 2
    first, second = receiver.requests
    assert first.headers["LedgerX-Event-Id"] == second.headers["LedgerX-Event-Id"] == str(delivery.event_id)
    assert first.body == second.body


def test_a_failed_delivery_redelivered_gets_exactly_one_more_attempt(tenant, receiver, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    receiver.script = [500, 500]
    delivery = _delivery(tenant, receiver)
    assert delivery_attempt(delivery_id=delivery.id).status == Delivery.Status.FAILED
    services.delivery_redeliver(delivery=delivery)
    again = delivery_attempt(delivery_id=delivery.id)
    assert (again.status, again.attempts) == (Delivery.Status.FAILED, 2)


def test_redelivery_is_refused_while_the_endpoint_is_disabled_or_the_delivery_is_being_sent(tenant, receiver):
    delivery = _delivery(tenant, receiver)
    Delivery.objects.filter(id=delivery.id).update(status=Delivery.Status.SENDING)
    with pytest.raises(Conflict, match="being sent"):
        services.delivery_redeliver(delivery=delivery)
    services.webhook_endpoint_update(endpoint=delivery.endpoint, is_active=False)
    with pytest.raises(Conflict, match="disabled"):
        services.delivery_redeliver(delivery=delivery)


# The sweep


def test_the_sweep_dispatches_old_undispatched_events_and_requeues_overdue_deliveries(tenant, receiver):
    endpoint = endpoint_for(tenant, receiver.url)
    old_event, fresh_event = emit(tenant), emit(tenant)
    OutboxEvent.objects.filter(id=old_event.id).update(created_at=timezone.now() - timedelta(minutes=1))
    overdue = Delivery.objects.create(
        organization=tenant.organization,
        event=fresh_event,
        endpoint=endpoint,
        attempt_limit=10,
        status=Delivery.Status.SENDING,  # its worker died mid-attempt and the lease ran out
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )
    assert services.webhooks_sweep() == {"events": 1, "deliveries": 1}
    assert OutboxEvent.objects.get(id=old_event.id).dispatched_at is not None
    assert OutboxEvent.objects.get(id=fresh_event.id).dispatched_at is None
    assert Delivery.objects.filter(event=old_event, endpoint=endpoint).exists()
    assert delivery_attempt(delivery_id=overdue.id).status == Delivery.Status.DELIVERED


def test_the_purge_deletes_expired_events_once_nothing_is_left_to_send(tenant, settings):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    endpoint = endpoint_for(tenant, "https://93.184.215.14/hooks")
    delivered, still_retrying, recent, never_dispatched = (emit(tenant) for _ in range(4))
    services.outbox_dispatch(event_ids=[delivered.id, still_retrying.id, recent.id])
    Delivery.objects.filter(event=delivered).update(status=Delivery.Status.DELIVERED)
    long_ago = timezone.now() - timedelta(days=31)
    OutboxEvent.objects.exclude(id=recent.id).update(created_at=long_ago)

    assert services.outbox_purge() == 1
    assert set(OutboxEvent.objects.values_list("id", flat=True)) == {still_retrying.id, recent.id, never_dispatched.id}
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {still_retrying.id, recent.id}
    assert WebhookEndpoint.objects.filter(id=endpoint.id).exists()
