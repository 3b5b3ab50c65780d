"""Scoring under concurrency: workers racing on one spend score it once, and racing on one employee's
spends lose no update of the running statistics. Threads, each with its own database connection."""

from datetime import timedelta

import numpy as np
import pytest
from django_redis import get_redis_connection

from apps.fraud import services
from apps.fraud.models import FraudAlert, SpendStatistic, TransactionRisk
from apps.fraud.velocity import window_key
from tests.conftest import run_in_threads
from tests.fraud.conftest import BASE_TIME, make_spend


@pytest.mark.django_db(transaction=True)  # each thread commits on its own connection
def test_workers_racing_on_one_spend_score_it_once(tenant):
    spend = make_spend(tenant.employee, 5000, category="gambling")
    scored = run_in_threads(4, lambda index: services.transactions_score(transaction_ids=[spend.id]))
    assert sorted(scored) == [0, 0, 0, 1]
    assert TransactionRisk.objects.count() == 1
    assert FraudAlert.objects.filter(transaction=spend).count() == 1
    assert list(SpendStatistic.objects.values_list("count", flat=True)) == [1, 1]


@pytest.mark.django_db(transaction=True)  # each thread commits on its own connection
def test_racing_workers_lose_no_statistics_update(tenant):
    amounts = [8000 + 137 * index for index in range(32)]
    spends = [
        make_spend(tenant.employee, amount, at=BASE_TIME + timedelta(seconds=10 * index))
        for index, amount in enumerate(amounts)
    ]
    batches = [spends[index::4] for index in range(4)]
    run_in_threads(4, lambda index: services.transactions_score(transaction_ids=[s.id for s in batches[index]]))

    logs = np.log(amounts)
    for row in SpendStatistic.objects.all():
        assert row.count == 32
        assert row.mean == pytest.approx(logs.mean())
        assert row.m2 / (row.count - 1) == pytest.approx(logs.var(ddof=1))
    window = window_key(organization_id=tenant.organization.id, employee_id=tenant.employee.id)
    assert get_redis_connection("default").zcard(window) == 32
