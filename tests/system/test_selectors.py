"""The figures of the internals page, read from the real PostgreSQL and Redis."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_policy_create
from apps.ledger.models import Transaction
from apps.spending import metrics
from apps.spending.services import approval_decide
from apps.system import selectors, services
from ledgerx.celery import app as celery_app
from tests.spends import refreshed, settle_all, spend_submit


def _queue(stats, name):
    return next(q for q in stats if q["queue"] == name)


@pytest.mark.django_db
def test_queue_depth_counts_every_priority_list_and_ages_the_oldest_message():
    celery_app.send_task("ledgerx.tests.no_such_task", queue="fraud")
    celery_app.send_task("ledgerx.tests.no_such_task", queue="fraud", priority=9)
    celery_app.send_task("ledgerx.tests.no_such_task", queue="default")

    stats = selectors.queue_stats()

    assert [q["queue"] for q in stats] == ["settlement", "default", "fraud"]
    assert _queue(stats, "fraud")["depth"] == 2
    assert _queue(stats, "default")["depth"] == 1
    assert _queue(stats, "fraud")["oldest_age_seconds"] >= 0
    assert _queue(stats, "settlement") == {"queue": "settlement", "depth": 0, "oldest_age_seconds": None}


@pytest.mark.django_db
def test_the_settlement_queue_is_as_old_as_the_oldest_pending_spend(tenant):
    spend = spend_submit(user=tenant.employee, amount="10.00")
    Transaction.objects.filter(id=spend.id).update(created_at=timezone.now() - timedelta(seconds=90))
    spend_submit(user=tenant.employee, amount="20.00")

    settlement = _queue(selectors.queue_stats(), "settlement")

    assert settlement["oldest_age_seconds"] >= 90


def _settled(spends, milliseconds, status=Transaction.Status.POSTED):
    for spend, ms in zip(spends, milliseconds, strict=True):
        Transaction.objects.filter(id=spend.id).update(
            status=status, processed_at=spend.created_at + timedelta(milliseconds=ms)
        )


@pytest.mark.django_db
def test_latency_percentiles_over_spends_accepted_in_the_window(tenant, other_tenant):
    spends = [spend_submit(user=tenant.employee, amount="1.00") for _ in range(9)]
    spends.append(spend_submit(user=other_tenant.employee, amount="1.00"))
    _settled(spends, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    old = spend_submit(user=tenant.employee, amount="1.00")
    Transaction.objects.filter(id=old.id).update(
        created_at=timezone.now() - timedelta(hours=1), processed_at=timezone.now(), status="posted"
    )
    spend_submit(user=tenant.employee, amount="1.00")  # still pending: no latency yet

    latency = selectors.settlement_latency(since=timezone.now() - timedelta(minutes=15))

    assert latency == {"settled": 10, "p50_ms": 550.0, "p95_ms": 955.0, "p99_ms": 991.0}


@pytest.mark.django_db(transaction=True)
def test_latency_of_a_spend_that_waited_for_approval_starts_at_the_decision(tenant):
    approval_policy_create(
        organization=tenant.organization, name="Large spend", min_amount_minor=500_000, levels=["finance_manager"]
    )
    quick = spend_submit(tenant.employee, "10.00")
    waited = spend_submit(tenant.employee, "6000.00")
    settle_all(tenant.organization)
    request = ApprovalRequest.objects.get(transaction=waited)
    approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    accepted = timezone.now() - timedelta(minutes=10)
    decided = timezone.now() - timedelta(seconds=5)
    # The spend waited ten minutes for a person, then settled 2 s after the decision.
    Transaction.objects.filter(id=waited.id).update(created_at=accepted, processed_at=decided + timedelta(seconds=2))
    ApprovalRequest.objects.filter(id=request.id).update(decided_at=decided)
    Transaction.objects.filter(id=quick.id).update(processed_at=refreshed(quick).created_at + timedelta(seconds=1))

    latency = selectors.settlement_latency(since=timezone.now() - timedelta(minutes=15))

    assert latency["settled"] == 2
    assert (latency["p50_ms"], latency["p99_ms"]) == (1500.0, 1990.0)


@pytest.mark.django_db
def test_latency_is_empty_without_settled_spends():
    latency = selectors.settlement_latency(since=timezone.now() - timedelta(minutes=15))
    assert latency == {"settled": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}


@pytest.mark.django_db
def test_throughput_counts_accepted_and_settled_spends_per_minute(tenant):
    now = timezone.now().replace(second=30, microsecond=0)
    spends = [spend_submit(user=tenant.employee, amount="1.00") for _ in range(3)]
    Transaction.objects.filter(id=spends[0].id).update(
        created_at=now - timedelta(minutes=2), processed_at=now - timedelta(minutes=1), status="posted"
    )
    Transaction.objects.filter(id=spends[1].id).update(created_at=now, processed_at=now, status="rejected")
    Transaction.objects.filter(id=spends[2].id).update(created_at=now)

    minutes = selectors.throughput_per_minute(since=now - timedelta(minutes=15), now=now)

    assert len(minutes) == 16
    assert [(m["accepted"], m["settled"]) for m in minutes[-3:]] == [(1, 0), (0, 1), (2, 1)]
    assert sum(m["accepted"] for m in minutes) == 3


@pytest.mark.django_db
def test_counters_count_spends_by_outcome(tenant):
    spends = [spend_submit(user=tenant.employee, amount="1.00") for _ in range(4)]
    _settled(spends[:2], [10, 10])
    _settled(spends[2:3], [10], status=Transaction.Status.REJECTED)
    _settled(spends[3:], [10], status=Transaction.Status.REVERSED)

    assert selectors.transaction_counters() == {
        "accepted": 4,
        "posted": 3,
        "rejected": 1,
        "pending": 0,
        "reversed": 1,
    }


@pytest.mark.django_db
def test_postgres_and_redis_report_healthy():
    postgres, redis = selectors.postgres_health(), selectors.redis_health()
    assert postgres["ok"] and postgres["version"] and postgres["connections"] >= 1
    assert redis["ok"] and redis["version"].startswith(("6", "7", "8"))


def test_heartbeats_show_recent_workers_alive_and_forget_long_silent_ones():
    now = time.time()
    services.worker_heartbeat_record(hostname="gone@host", queues=["default"], now=now - 700)
    services.worker_heartbeat_record(hostname="quiet@host", queues=["fraud"], now=now - 60)
    services.worker_heartbeat_record(hostname="busy@host", queues=["default", "settlement"], now=now)

    workers = {w["hostname"]: w for w in selectors.worker_heartbeats()}

    assert set(workers) == {"busy@host", "quiet@host"}
    assert workers["busy@host"]["alive"] and workers["busy@host"]["queues"] == ["default", "settlement"]
    assert not workers["quiet@host"]["alive"]
    services.worker_heartbeat_clear(hostname="busy@host")
    assert [w["hostname"] for w in selectors.worker_heartbeats()] == ["quiet@host"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the worker runs in its own thread with its own connection
def test_a_real_worker_keeps_its_heartbeat(settlement_worker):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = {w["hostname"]: w for w in selectors.worker_heartbeats()}
        if settlement_worker.hostname in workers:
            break
        time.sleep(0.1)
    worker = workers[settlement_worker.hostname]
    assert worker["alive"]
    assert {"settlement", "default"} <= set(worker["queues"])


@pytest.mark.django_db
def test_system_metrics_gathers_everything():
    metrics = selectors.system_metrics()
    assert set(metrics) == {
        "generated_at",
        "window_minutes",
        "queues",
        "latency",
        "throughput",
        "transactions",
        "postgresql",
        "redis",
        "workers",
        "settlement",
    }
    assert metrics["window_minutes"] == 15
    assert len(metrics["throughput"]) == 16


def test_settlement_latencies_land_in_cumulative_buckets_a_bound_included():
    # 0.01 sits on a bound and counts in it; 100 s is beyond every bound and counts only in +Inf.
    metrics.settlement_observe(batch_size=4, latencies_seconds=[0.003, 0.01, 0.2, 100.0])

    latency = selectors.settlement_histograms()["settle_latency_seconds"]
    counts = {bucket["le"]: bucket["count"] for bucket in latency["buckets"]}
    assert (counts["0.005"], counts["0.01"], counts["0.025"], counts["0.25"], counts["60"]) == (1, 2, 2, 3, 3)
    assert counts["+Inf"] == latency["count"] == 4
    batch = {bucket["le"]: bucket["count"] for bucket in selectors.settlement_histograms()["batch_size"]["buckets"]}
    assert (batch["1"], batch["10"], batch["+Inf"]) == (0, 1, 1)
