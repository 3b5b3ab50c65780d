"""Fair, lossless delivery: per-endpoint and per-tenant limits, leases, paused deliveries, slow receivers.

Real Celery worker threads on the real Redis broker, real HTTP receivers on 127.0.0.1.
"""

import base64
import itertools
import json
import logging
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from apps.webhooks import services
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import Delivery, WebhookEndpoint
from ledgerx.celery import app as celery_app
from tests.webhooks.conftest import Receiver, emit, endpoint_for, running_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DELIVER = "apps.webhooks.tasks.deliver"


@pytest.fixture
def slow_receiver():
    server = Receiver()
    server.delay = 2.0
    yield server
    server.delay = 0
    server.stop()


def _queued_deliveries(queue: str) -> list[str]:
    """The delivery ids of the deliver messages waiting in a Redis queue (a list), in queue order."""
    with celery_app.connection_for_write() as connection:
        raw = connection.default_channel.client.lrange(queue, 0, -1)
    ids = []
    for item in raw:
        message = json.loads(item)
        if message["headers"]["task"] == DELIVER:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            ids.append(args[0])
    return ids


def _queue_length(queue: str) -> int:
    with celery_app.connection_for_write() as connection:
        return connection.default_channel.client.llen(queue)


def _all_delivered(count: int):
    return lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == count


# Fairness


def test_a_slow_receiver_of_one_tenant_does_not_delay_another_tenants_event(
    tenant, other_tenant, slow_receiver, receiver
):
    endpoint_for(tenant, slow_receiver.url)
    endpoint_for(other_tenant, receiver.url)
    with running_worker(concurrency=2):
        for _ in range(4):
            emit(tenant)
        slow_receiver.wait_for(1)  # the slow receiver is busy with the first

        raised = time.monotonic()
        event = emit(other_tenant)
        [request] = receiver.wait_for(1, timeout=10)
        # Its first attempt, at once, as the retry schedule says: it did not queue behind the slow tenant.
        assert request.at - raised < 1.0
        assert request.headers["LedgerX-Event-Id"] == str(event.id)
        assert len(slow_receiver.requests) < 4  # the slow tenant is still busy
        assert slow_receiver.in_flight_max == 1  # one request in flight per endpoint
        slow_receiver.delay = 0
        wait_until(_all_delivered(5), what="every delivery")


def test_a_tenant_has_at_most_its_cap_of_deliveries_in_flight(tenant, receiver, settings):
    settings.WEBHOOKS_TENANT_MAX_IN_FLIGHT = 2
    receiver.delay = 0.5
    # Three endpoints on one server: its in-flight count is the tenant's.
    for n in range(3):
        endpoint_for(tenant, f"{receiver.url}?endpoint={n}")
    with running_worker(concurrency=4):
        emit(tenant)
        emit(tenant)
        receiver.wait_for(6, timeout=30)
        wait_until(_all_delivered(6), what="every delivery")
    assert receiver.in_flight_max == 2


# Leases: one message per waiting delivery


def test_the_queue_holds_at_most_one_message_per_waiting_delivery(tenant, receiver):
    first = endpoint_for(tenant, f"{receiver.url}?endpoint=1")
    second = endpoint_for(tenant, f"{receiver.url}?endpoint=2")
    events = [emit(tenant) for _ in range(5)]
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("default")  # the dispatch messages: dispatched here instead
    services.outbox_dispatch(event_ids=[event.id for event in events])
    waiting = set(Delivery.objects.values_list("id", flat=True))
    assert len(waiting) == 10
    # No worker: the deliveries wait, overdue, as behind a long backlog, and beat sweeps again and again.
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    for _ in range(3):
        services.webhooks_sweep()

    queued = _queued_deliveries("webhooks") + _queued_deliveries("default")
    assert queued, "the deliveries were never queued"
    assert max(Counter(queued).values()) == 1
    assert {str(delivery_id) for delivery_id in waiting} >= set(queued)
    assert _queue_length("webhooks") == len(queued)  # all of them on the webhooks queue
    # One per endpoint: the others wait their turn holding no message.
    assert Counter(Delivery.objects.get(id=d).endpoint_id for d in queued) == {first.id: 1, second.id: 1}

    with running_worker():
        wait_until(_all_delivered(10), what="every delivery, each in its turn")
    assert len(receiver.requests) == 10
    assert _queue_length("webhooks") == 0


def test_the_sweep_never_requeues_a_leased_delivery(tenant, receiver):
    receiver.delay = 1.0
    endpoint_for(tenant, f"{receiver.url}?endpoint=1")
    endpoint_for(tenant, f"{receiver.url}?endpoint=2")
    event = emit(tenant)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("default")
    services.outbox_dispatch(event_ids=[event.id])
    sending, queued = Delivery.objects.all()
    assert sorted(_queued_deliveries("webhooks")) == sorted([str(sending.id), str(queued.id)])

    # One attempt is under way; the other's message waits in the queue, overdue behind a backlog.
    attempt = threading.Thread(target=lambda: (delivery_attempt(delivery_id=sending.id), connections.close_all()))
    attempt.start()
    receiver.wait_for(1)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    for _ in range(3):
        assert services.webhooks_sweep() == {"events": 0, "deliveries": 0}
    attempt.join()
    assert Delivery.objects.get(id=sending.id).status == Delivery.Status.DELIVERED
    assert Counter(_queued_deliveries("webhooks")) == {str(sending.id): 1, str(queued.id): 1}
    assert len(receiver.requests) == 1

    # A lease that ran out (the message was lost) is re-queued, once, however often the sweep runs.
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("webhooks")
    Delivery.objects.filter(id=queued.id).update(attempting_until=timezone.now() - timedelta(seconds=1))
    assert services.webhooks_sweep() == {"events": 0, "deliveries": 1}
    assert services.webhooks_sweep() == {"events": 0, "deliveries": 0}
    assert _queued_deliveries("webhooks") == [str(queued.id)]


# Paused deliveries


def test_events_raised_while_an_endpoint_is_disabled_are_sent_in_order_once_it_is_enabled(
    tenant, receiver, api, webhook_worker
):
    endpoint = endpoint_for(tenant, receiver.url)
    client = api(tenant.admin)
    disabled = client.patch(f"/api/v1/webhooks/endpoints/{endpoint.id}", {"is_active": False}, format="json")
    assert disabled.status_code == 200, disabled.content
    events = [emit(tenant, payload={"n": n}) for n in range(5)]
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.PAUSED).count() == 5, what="the deliveries kept, paused"
    )
    time.sleep(0.5)
    assert receiver.requests == []

    response = client.patch(f"/api/v1/webhooks/endpoints/{endpoint.id}", {"is_active": True}, format="json")
    assert response.status_code == 200, response.content
    requests = receiver.wait_for(5)
    assert [r.headers["LedgerX-Event-Id"] for r in requests] == [str(event.id) for event in events]
    wait_until(_all_delivered(5), what="every delivery recorded")
    assert receiver.in_flight_max == 1


def test_an_auto_disabled_endpoint_gets_the_failing_and_the_later_events_in_order_once_enabled(
    tenant, receiver, settings, webhook_worker
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.script = [500, 500]
    endpoint = endpoint_for(tenant, receiver.url)
    failing = emit(tenant)
    wait_until(lambda: not WebhookEndpoint.objects.get(id=endpoint.id).is_active, what="the endpoint being disabled")
    later = [emit(tenant), emit(tenant)]
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.PAUSED).count() == 3, what="all three kept, paused"
    )
    assert len(receiver.requests) == 2

    services.webhook_endpoint_update(endpoint=endpoint, is_active=True)
    requests = receiver.wait_for(5)
    assert [r.headers["LedgerX-Event-Id"] for r in requests[2:]] == [str(e.id) for e in [failing, *later]]
    wait_until(_all_delivered(3), what="every delivery recorded")


# Slow receivers


def test_a_slow_receiver_is_reported_and_its_attempts_spaced_out(tenant, receiver, settings, api, caplog):
    settings.WEBHOOKS_SLOW_P95_MS = 100
    settings.WEBHOOKS_SLOW_SPACING_SECONDS = 2
    receiver.delay = 0.15
    endpoint = endpoint_for(tenant, receiver.url)
    events = [emit(tenant) for _ in range(7)]
    services.outbox_dispatch(event_ids=[event.id for event in events])
    deliveries = list(Delivery.objects.order_by("created_at"))

    with caplog.at_level(logging.WARNING, logger="apps.webhooks"):
        for delivery in deliveries[:5]:
            assert delivery_attempt(delivery_id=delivery.id).status == Delivery.Status.DELIVERED
    # Throttled, not retried harder: the next attempt waits until the spacing has passed.
    assert delivery_attempt(delivery_id=deliveries[5].id) is None
    assert len(receiver.requests) == 5
    endpoint.refresh_from_db()
    assert endpoint.slow_since is not None and endpoint.latency_p95_ms >= 150
    [report] = [record.getMessage() for record in caplog.records if "is slow" in record.getMessage()]
    assert str(endpoint.id) in report and "p95" in report

    with running_worker():
        services.webhooks_sweep()
        wait_until(_all_delivered(7), what="the throttled deliveries")
    arrivals = [request.at for request in receiver.requests[4:]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert all(gap >= 2.0 for gap in gaps), gaps
    shown = api(tenant.admin).get(f"/api/v1/webhooks/endpoints/{endpoint.id}").json()
    assert (shown["slow"], shown["latency_p95_ms"]) == (True, WebhookEndpoint.objects.get().latency_p95_ms)
