"""Spends for the detector tests, written straight as settled rows with the times each test needs.

These tests are about scoring, not settlement (tests/ledger covers that; tests/fraud/test_pipeline.py
goes through the real money path), so a spend here is the row settlement would have left.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from apps.fraud import selectors, services
from apps.ledger.models import Transaction

# A Wednesday at 14:00 UTC, inside working hours in UTC.
BASE_TIME = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
_keys = itertools.count()


def make_spend(
    employee,
    amount_minor: int,
    *,
    at: datetime = BASE_TIME,
    merchant: str = "Office Depot",
    category: str = "supplies",
    status: str = Transaction.Status.POSTED,
) -> Transaction:
    return Transaction.objects.create(
        organization=employee.organization,
        kind=Transaction.Kind.SPEND,
        status=status,
        amount_minor=amount_minor,
        currency=employee.organization.currency,
        original_amount_minor=amount_minor,
        original_currency=employee.organization.currency,
        fx_rate=1,
        merchant=merchant,
        category=category,
        department=employee.department,
        employee=employee,
        created_by=employee,
        budget_month=at.date().replace(day=1),
        idempotency_key=f"fraud-test-{next(_keys)}",
        request_fingerprint="test",
        created_at=at,
        processed_at=at + timedelta(seconds=1),
        rejection_reason="Department 'Engineering' budget exceeded." if status == Transaction.Status.REJECTED else "",
    )


def score(spend: Transaction):
    """Score one spend through the service the fraud task calls; returns the alerts raised, by rule."""
    alerts = services.transaction_score(
        spend=Transaction.objects.select_related("organization", "employee", "department").get(id=spend.id),
        fraud_settings=selectors.fraud_settings_for(organization=spend.organization),
    )
    return None if alerts is None else {alert.rule: alert for alert in alerts}


@pytest.fixture
def spend():
    return make_spend
