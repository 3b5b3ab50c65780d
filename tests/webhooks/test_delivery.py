"""Webhooks end to end: a real Celery worker on real Redis POSTs to a real HTTP receiver on 127.0.0.1.

Every test here needs real commits (`transaction=True`): the worker only sees committed rows, and
the outbox's promise is about what commits and what rolls back.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.budgets.locks import organization_settlement_lock
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from apps.spending import settlement
from apps.webhooks import services, signing
from apps.webhooks.models import Delivery, OutboxEvent, WebhookEndpoint
from apps.webhooks.tasks import sweep_webhooks
from ledgerx.celery import app as celery_app
from ledgerx.db import run_serializable
from tests.webhooks.conftest import emit, endpoint_for, running_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _delivered(event_id) -> Delivery | None:
    return Delivery.objects.filter(event_id=event_id, status=Delivery.Status.DELIVERED).first()


def _submit(user, key: str, amount: str) -> Transaction:
    spend, _ = spending_services.transaction_submit(
        user=user, idempotency_key=key, amount=amount, currency="USD", merchant="Dell", category="equipment"
    )
    return spend


def test_a_posted_spend_reaches_the_receiver_signed(tenant, receiver, transactional_db):
    endpoint = endpoint_for(tenant, receiver.url, event_types=["transaction.posted"])
    spend = _submit(tenant.employee, "laptop-1", "1200.50")

    with running_worker(queues=("settlement", "default", "webhooks")):
        [request] = receiver.wait_for(1)
        assert signing.verify(endpoint.secret, request.headers["LedgerX-Signature"], request.body)
        assert not signing.verify("whsec_forged", request.headers["LedgerX-Signature"], request.body)
        body = json.loads(request.body)
        assert body["id"] == request.headers["LedgerX-Event-Id"]
        assert body["type"] == request.headers["LedgerX-Event-Type"] == "transaction.posted"
        assert body["organization"] == str(tenant.organization.id)
        assert body["data"]["transaction"]["id"] == str(spend.id)
        assert body["data"]["transaction"]["status"] == "posted"
        assert body["data"]["transaction"]["amount"] == "1200.50"
        assert body["data"]["transaction"]["employee"]["email"] == tenant.employee.email

        delivery = wait_until(lambda: _delivered(body["id"]), what="the delivery being recorded")
        assert (delivery.attempts, delivery.last_response_code, delivery.endpoint_id) == (1, 200, endpoint.id)
        assert delivery.latency_ms is not None


def test_a_receiver_that_fails_twice_gets_each_attempt_with_the_same_event_id(tenant, receiver, webhook_worker):
    endpoint = endpoint_for(tenant, receiver.url)
    receiver.script = [500, 503]
    event = emit(tenant, payload={"transaction": {"id": "t-1"}})

    requests = receiver.wait_for(3)
    delivery = wait_until(lambda: _delivered(event.id), what="the delivery succeeding")
    assert [r.headers["LedgerX-Event-Id"] for r in requests] == [str(event.id)] * 3
    assert [r.headers["LedgerX-Delivery-Attempt"] for r in requests] == ["1", "2", "3"]
    assert {r.body for r in requests} == {requests[0].body}
    assert all(signing.verify(endpoint.secret, r.headers["LedgerX-Signature"], r.body) for r in requests)
    assert (delivery.attempts, delivery.last_response_code) == (3, 200)
    assert WebhookEndpoint.objects.get().consecutive_failures == 0
    # Delivered: no further attempt is scheduled, so the receiver saw exactly the three.
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 3


def test_an_event_of_a_rolled_back_change_is_never_sent(tenant, receiver, webhook_worker):
    """The settlement's own transaction writes the event, then fails: nothing may reach the receiver."""
    endpoint_for(tenant, receiver.url, event_types=["transaction.posted", "transaction.rejected"])
    spend = _submit(tenant.employee, "laptop-1", "300.00")  # this worker does not consume the settlement queue

    rolled_back: set[str] = set()

    def settle_then_fail() -> None:
        settlement._settle_batch(organization_id=tenant.organization.id, batch_size=10)
        rolled_back.update(str(event_id) for event_id in OutboxEvent.objects.values_list("id", flat=True))
        assert len(rolled_back) == 1
        raise RuntimeError("the settlement failed after its event was written")

    # As settlement runs it: under the organization's lock, in a SERIALIZABLE transaction.
    with (
        pytest.raises(RuntimeError, match="after its event was written"),
        organization_settlement_lock(tenant.organization.id),
    ):
        run_serializable(settle_then_fail)
    assert not OutboxEvent.objects.exists()
    assert Transaction.objects.get(id=spend.id).status == Transaction.Status.PENDING

    spending_services.settlement_run(organization_id=tenant.organization.id)
    [request] = receiver.wait_for(1)
    committed = OutboxEvent.objects.get()
    assert request.headers["LedgerX-Event-Id"] == str(committed.id)
    assert request.headers["LedgerX-Event-Id"] not in rolled_back
    wait_until(lambda: _delivered(committed.id), what="the delivery being recorded")
    # Even a sweep finds nothing more to send: the rolled-back event never existed for anyone else.
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert services.webhooks_sweep() == {"events": 0, "deliveries": 0}
    assert len(receiver.requests) == 1


def test_events_raised_while_the_worker_is_stopped_go_out_when_it_returns(tenant, receiver):
    endpoint_for(tenant, receiver.url)
    events = [emit(tenant), emit(tenant)]
    # No worker: the events are committed and their dispatch is waiting in Redis.
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 2
    assert receiver.requests == []

    with running_worker():
        requests = receiver.wait_for(2)
        for event in events:
            wait_until(lambda event=event: _delivered(event.id), what="the delivery being recorded")
    assert sorted(r.headers["LedgerX-Event-Id"] for r in requests) == sorted(str(e.id) for e in events)


def test_the_sweep_sends_events_whose_dispatch_message_was_lost(tenant, receiver):
    endpoint_for(tenant, receiver.url)
    event = emit(tenant)
    with celery_app.connection_for_write() as connection:
        assert connection.default_channel.queue_purge("default") == 1  # the message is lost
    OutboxEvent.objects.filter(id=event.id).update(created_at=timezone.now() - timedelta(minutes=1))

    with running_worker():
        sweep_webhooks.delay()  # what beat sends every few seconds
        [request] = receiver.wait_for(1)
        wait_until(lambda: _delivered(event.id), what="the delivery being recorded")
    assert request.headers["LedgerX-Event-Id"] == str(event.id)


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_admins_emailed(
    tenant, receiver, settings, mailoutbox, webhook_worker
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.script = [500] * 10
    endpoint = endpoint_for(tenant, receiver.url)
    event = emit(tenant)

    wait_until(lambda: not WebhookEndpoint.objects.get(id=endpoint.id).is_active, what="the endpoint being disabled")
    # Its attempts are not used up: it is kept, paused, for when the endpoint is enabled again.
    delivery = wait_until(
        lambda: Delivery.objects.filter(event=event, status=Delivery.Status.PAUSED).first(),
        what="the delivery being paused",
    )
    assert delivery.attempts == 3
    assert len(receiver.requests) == 3
    wait_until(lambda: mailoutbox, what="the admins' email")
    assert mailoutbox[0].to == [tenant.admin.email]
    assert "disabled" in mailoutbox[0].subject


def test_redelivery_through_the_api_sends_the_event_again(tenant, receiver, api, webhook_worker):
    endpoint_for(tenant, receiver.url)
    event = emit(tenant)
    receiver.wait_for(1)
    delivery = wait_until(lambda: _delivered(event.id), what="the first delivery")

    response = api(tenant.admin).post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 202, response.content
    first, second = receiver.wait_for(2)
    assert first.headers["LedgerX-Event-Id"] == second.headers["LedgerX-Event-Id"] == str(event.id)
    wait_until(
        lambda: Delivery.objects.filter(id=delivery.id, status=Delivery.Status.DELIVERED, attempts=2).exists(),
        what="the redelivery being recorded",
    )
