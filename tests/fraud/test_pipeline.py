"""Fraud scoring beside the money path, with real Celery workers on the real Redis broker.

Settlement never waits for fraud: it completes with the fraud workers stopped and with the broker
refusing the scoring request; the alerts appear once a fraud worker runs, and the sweep scores
what a lost message left unscored.
"""

import socket
import time
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django_redis import get_redis_connection

from apps.fraud import services as fraud_services
from apps.fraud.models import FraudAlert, Rule, TransactionRisk
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from ledgerx.celery import app as celery_app


def _worker(queues: list[str], name: str):
    # One fraud thread, as deployed: velocity windows fill in settlement order.
    return start_worker(
        celery_app,
        pool="threads",
        concurrency=1 if queues == ["fraud"] else 2,
        perform_ping_check=False,
        queues=queues,
        shutdown_timeout=30,
        hostname=f"{name}@test",
    )


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout}s")
        time.sleep(0.05)


def _submit(tenant, key: str, amount: str, category: str) -> Transaction:
    spend, _ = spending_services.transaction_submit(
        user=tenant.employee,
        idempotency_key=key,
        amount=amount,
        currency="USD",
        merchant="Lucky Star" if category == "gambling" else "Dell",
        category=category,
    )
    return spend


def _settle_three(tenant) -> dict[str, Transaction]:
    """A blocked-category spend, an ordinary one and one over the budget, settled by a real worker."""
    with _worker(["settlement", "default"], "settlement"):
        spends = {
            "blocked": _submit(tenant, "casino-1", "120.00", "gambling"),
            "ordinary": _submit(tenant, "laptop-1", "900.00", "equipment"),
            "refused": _submit(tenant, "too-much-1", "99999.00", "equipment"),
        }
        _wait_for(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists(), "settlement")
    connections.close_all()
    return {name: Transaction.objects.get(id=spend.id) for name, spend in spends.items()}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # workers see only committed rows
def test_settlement_completes_while_fraud_workers_are_stopped_and_alerts_follow(tenant):
    spends = _settle_three(tenant)
    assert spends["blocked"].status == spends["ordinary"].status == Transaction.Status.POSTED
    assert spends["refused"].status == Transaction.Status.REJECTED
    # Nothing scored yet: the scoring requests wait on the fraud queue.
    assert not TransactionRisk.objects.exists()
    assert not FraudAlert.objects.exists()
    assert get_redis_connection("default").llen("fraud") >= 1

    with _worker(["fraud"], "fraud"):
        _wait_for(lambda: TransactionRisk.objects.count() == 3, "scoring")
    connections.close_all()
    # The refused attempt spent nothing: $1,020 in the window is not a spree. The employee is new, so
    # their hours are not judged, whenever the test runs.
    assert set(FraudAlert.objects.values_list("transaction_id", "rule")) == {
        (spends["blocked"].id, Rule.BLOCKED_CATEGORY),
    }


@contextmanager
def broker_refusing():
    """The Celery app pointed at a local port where nothing listens: a broker that is really down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    _forget_producer_pool()  # publishing goes through a pool of the broker's: take the new broker's
    try:
        yield
    finally:
        celery_app.conf.broker_url = original
        _forget_producer_pool()


def _forget_producer_pool() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # settlement takes its lock outside a transaction and commits
def test_a_broker_refusing_scoring_does_not_fail_settlement_and_the_sweep_scores_later(tenant, settings):
    settings.FRAUD_SWEEP_AFTER_SECONDS = 0
    spend = _submit(tenant, "casino-2", "120.00", "gambling")
    redis = get_redis_connection("default")
    with broker_refusing():
        result = spending_services.settlement_run(organization_id=tenant.organization.id)
    assert result.posted == [spend.id]
    assert redis.llen("fraud") == 0  # the scoring request was refused, and settlement did not mind

    assert fraud_services.scoring_sweep() == 1
    with _worker(["fraud"], "fraud"):
        _wait_for(lambda: TransactionRisk.objects.filter(transaction=spend).exists(), "the sweep's scoring")
    connections.close_all()
    assert FraudAlert.objects.get(transaction=spend).rule == Rule.BLOCKED_CATEGORY
    assert fraud_services.scoring_sweep() == 0
