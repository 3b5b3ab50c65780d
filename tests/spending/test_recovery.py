"""Nothing accepted is lost: a queue message that vanished is recovered by the sweeper.

transaction=True: the real worker only sees committed rows.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django_redis import get_redis_connection

from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending.services import settlement_sweep
from ledgerx.celery import app as celery_app
from tests.spends import spend_submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_dropped_queue_message_is_recovered_by_the_sweeper(tenant, settings):
    settings.SETTLEMENT_SWEEP_AFTER_SECONDS = 0
    spends = [spend_submit(tenant.employee, "10.00") for _ in range(3)]
    redis = get_redis_connection("default")
    assert redis.llen("settlement") == 1  # three spends, one deduplicated wake-up
    redis.delete("settlement")  # the broker forgot it

    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["settlement"]):
        time.sleep(0.5)
        assert Transaction.objects.filter(status=Transaction.Status.PENDING).count() == 3
        assert settlement_sweep() == 1
        assert _wait_until(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists())
    connections.close_all()

    assert {Transaction.objects.get(id=s.id).status for s in spends} == {Transaction.Status.POSTED}
    assert Entry.objects.count() == 6
    assert ledger_verify()["ok"]


def test_a_message_delivered_twice_settles_once(tenant, settlement_worker):
    from apps.spending.tasks import settle_pending

    spend = spend_submit(tenant.employee, "10.00")
    for _ in range(3):
        settle_pending.delay(str(tenant.organization.id))
    assert _wait_until(lambda: Transaction.objects.get(id=spend.id).status == Transaction.Status.POSTED)
    time.sleep(0.3)
    assert Entry.objects.filter(transaction=spend).count() == 2
    assert ledger_verify()["ok"]
