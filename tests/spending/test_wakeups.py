"""Wake-ups: deduplicated in Redis, memoized per web process, and covered by the worker's lingering look.

transaction=True: the drain runs in its own thread and connection, and sees only committed rows.
"""

import threading

import pytest
from django.db import connections
from django_redis import get_redis_connection

from apps.ledger.models import Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import drain, services, wakeups
from tests.processes import wait_until
from tests.spends import spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def _wakeup_queued(organization) -> bool:
    return bool(get_redis_connection("default").exists(f"ledgerx:settle-wakeup:{organization.id}"))


def _statuses() -> set[str]:
    return set(Transaction.objects.values_list("status", flat=True))


def _start_drain(organization, results: list[int]) -> threading.Thread:
    """A drain in a thread and connection of its own, as another worker process would run it."""

    def drain() -> None:
        try:
            results.append(services.settlement_drain(organization_id=organization.id))
        finally:
            connections.close_all()

    worker = threading.Thread(target=drain)
    worker.start()
    return worker


def test_a_burst_of_spends_queues_one_wakeup(tenant):
    redis = get_redis_connection("default")
    before = redis.llen("settlement")
    for _ in range(5):
        spend_submit(tenant.employee, "1.00")
    assert redis.llen("settlement") == before + 1
    assert _wakeup_queued(tenant.organization)


def test_a_spend_whose_wakeup_was_skipped_is_settled_by_the_draining_worker(tenant, monkeypatch):
    # Wide windows, so that the skip below happens whatever the machine's speed.
    monkeypatch.setattr(wakeups, "WAKEUP_MEMO_SECONDS", 2.0)
    monkeypatch.setattr(wakeups, "WAKEUP_LINGER_SECONDS", 2.5)
    spend_submit(tenant.employee, "1.00")  # queues a wake-up, which this process remembers seeing
    drained: list[int] = []
    worker = _start_drain(tenant.organization, drained)
    consumed = wait_until(lambda: not _wakeup_queued(tenant.organization), timeout=1.8, interval=0.005)
    assert consumed, "the drain consumed the wake-up"

    spend_submit(tenant.employee, "2.00")  # within the memo: no new wake-up is asked for
    assert not _wakeup_queued(tenant.organization)
    worker.join(timeout=10)

    assert drained == [2]
    assert _statuses() == {Transaction.Status.POSTED}
    assert ledger_verify()["ok"]


def test_the_task_a_full_batch_hands_over_to_finds_the_lease_free(tenant, settings, monkeypatch):
    settings.SETTLEMENT_BATCH_SIZE = 2
    for _ in range(3):
        spend_submit(tenant.employee, "1.00")
    real_request = drain.settlement_request
    next_task: list[int] = []

    def request_and_run_the_next_task_at_once(**kwargs) -> None:
        real_request(**kwargs)
        _start_drain(tenant.organization, next_task).join(timeout=10)

    monkeypatch.setattr(drain, "settlement_request", request_and_run_the_next_task_at_once)
    assert services.settlement_drain(organization_id=tenant.organization.id) == 2
    assert next_task == [1]
    assert _statuses() == {Transaction.Status.POSTED}


def test_a_full_batch_hands_over_to_a_new_wakeup(tenant, settings):
    settings.SETTLEMENT_BATCH_SIZE = 2
    for _ in range(3):
        spend_submit(tenant.employee, "1.00")
    redis = get_redis_connection("default")
    queued = redis.llen("settlement")
    assert services.settlement_drain(organization_id=tenant.organization.id) == 2
    assert _wakeup_queued(tenant.organization)
    assert redis.llen("settlement") == queued + 1
    assert services.settlement_drain(organization_id=tenant.organization.id) == 1
    assert _statuses() == {Transaction.Status.POSTED}


def test_a_second_drain_of_an_organization_leaves_its_wakeup_to_the_drain_in_progress(tenant):
    from apps.spending.drain_lease import organization_drain_lease

    spend_submit(tenant.employee, "1.00")
    second: list[int] = []
    with organization_drain_lease(tenant.organization.id) as leased:  # a drain in progress
        assert leased
        _start_drain(tenant.organization, second).join(timeout=10)
        assert second == [0]
        assert _wakeup_queued(tenant.organization)  # left for the drain in progress to consume
    assert services.settlement_drain(organization_id=tenant.organization.id) == 1
    assert _statuses() == {Transaction.Status.POSTED}


def test_a_wakeup_queued_as_a_drain_ends_is_drained_before_it_returns(tenant, monkeypatch):
    spend_submit(tenant.employee, "1.00")
    real_drain = drain._drain_leased
    rounds: list[int] = []

    def drain_then_a_spend_arrives(organization_id):
        outcome = real_drain(organization_id)
        if not rounds:  # after its last look, before the lease is released
            spend_submit(tenant.employee, "2.00")
        rounds.append(outcome[0])
        return outcome

    monkeypatch.setattr(drain, "_drain_leased", drain_then_a_spend_arrives)
    monkeypatch.setattr(wakeups, "_wakeup_seen_at", {})  # this process has seen no wake-up lately
    assert services.settlement_drain(organization_id=tenant.organization.id) == 2
    assert rounds == [1, 1]
    assert _statuses() == {Transaction.Status.POSTED}


def test_a_spend_accepted_while_a_drain_is_in_progress_queues_no_task(tenant, monkeypatch):
    monkeypatch.setattr(wakeups, "WAKEUP_LINGER_SECONDS", 1.5)
    spend_submit(tenant.employee, "1.00")
    drained: list[int] = []
    worker = _start_drain(tenant.organization, drained)
    consumed = wait_until(lambda: not _wakeup_queued(tenant.organization), timeout=1.0, interval=0.005)
    assert consumed, "the drain consumed the wake-up"

    monkeypatch.setattr(wakeups, "_wakeup_seen_at", {})  # past the memo: the spend asks again
    redis = get_redis_connection("default")
    queued = redis.llen("settlement")
    spend_submit(tenant.employee, "2.00")
    assert _wakeup_queued(tenant.organization)  # for the lingering drain to consume
    assert redis.llen("settlement") == queued  # where a task would find the lease taken
    worker.join(timeout=10)

    assert drained == [2]
    assert _statuses() == {Transaction.Status.POSTED}


def test_drain_in_progress_is_the_lease_of_that_organization_only(tenant):
    from apps.spending.drain_lease import organization_drain_in_progress, organization_drain_lease
    from apps.tenancy.services import organization_create

    other = organization_create(name="Other Corp", currency="USD")
    held, release = threading.Event(), threading.Event()

    def hold_lease() -> None:
        try:
            with organization_drain_lease(tenant.organization.id) as leased:
                assert leased
                held.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    assert not organization_drain_in_progress(tenant.organization.id)
    holder = threading.Thread(target=hold_lease)
    holder.start()
    assert held.wait(timeout=10)
    try:
        assert organization_drain_in_progress(tenant.organization.id)
        assert not organization_drain_in_progress(other.id)
    finally:
        release.set()
        holder.join(timeout=10)
    assert not organization_drain_in_progress(tenant.organization.id)


@pytest.mark.django_db(transaction=False)
def test_lingering_looks_space_out_as_looks_grow_slow():
    """Quick looks keep the base interval (a spend waits little); a slow look, on a loaded machine,
    stretches it so that the next batch gathers more spends per fixed cost, within a bound."""
    assert drain.lingering_look_interval(0.002) == wakeups.WAKEUP_POLL_SECONDS
    assert drain.lingering_look_interval(0.02) == pytest.approx(wakeups.WAKEUP_POLL_BUSY_FACTOR * 0.02)
    assert drain.lingering_look_interval(5.0) == wakeups.WAKEUP_POLL_MAX_SECONDS
    assert wakeups.WAKEUP_POLL_SECONDS < wakeups.WAKEUP_POLL_MAX_SECONDS
