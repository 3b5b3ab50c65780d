"""Spend per day, by category and top merchants: what the finance dashboard charts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.spending import selectors
from apps.spending.services import transaction_reverse
from ledgerx.months import month_start
from tests.reimbursements.claims import claim_submit
from tests.spends import settle_all, spend_settled, spend_submit


def _month(user):
    return month_start(timezone.now(), user.organization.timezone)


@pytest.mark.django_db(transaction=True)  # settlement takes its advisory lock outside any transaction
def test_reports_count_posted_spend_only_within_the_tenant_and_what_the_user_may_see(tenant, other_tenant):
    spend_settled(user=tenant.employee, amount="1000.00", merchant="Dell", category="equipment")
    spend_settled(user=tenant.employee, amount="250.50", merchant="Delta", category="travel")
    spend_settled(user=tenant.other_employee, amount="3000.00", merchant="Dell", category="equipment")
    reversed_spend = spend_settled(user=tenant.other_employee, amount="700.00", merchant="Hilton", category="travel")
    transaction_reverse(actor=tenant.finance, original_id=reversed_spend.id, reason="duplicate", idempotency_key="r-1")
    rejected = spend_settled(user=tenant.employee, amount="49000.00", merchant="Apple", category="equipment")
    assert rejected.status == "rejected"
    spend_settled(user=other_tenant.employee, amount="999.00", merchant="Globex Supplies", category="office")

    month = _month(tenant.finance)
    categories = selectors.spend_by_category(user=tenant.finance, month=month)
    assert [(row["category"], row["total_minor"], row["count"]) for row in categories] == [
        ("equipment", 400_000, 2),
        ("travel", 25_050, 1),
    ]
    merchants = selectors.top_merchants(user=tenant.finance, month=month)
    assert [(row["merchant"], row["total_minor"], row["count"]) for row in merchants] == [
        ("Dell", 400_000, 2),
        ("Delta", 25_050, 1),
    ]
    per_day = selectors.spend_per_day(user=tenant.finance, month=month)
    today = timezone.now().date()  # the tenant's timezone is UTC
    assert per_day[0]["day"] == month
    assert per_day[-1] == {"day": today, "total_minor": 425_050}
    assert sum(row["total_minor"] for row in per_day) == 425_050

    own = selectors.spend_by_category(user=tenant.employee, month=month)
    assert [(row["category"], row["total_minor"]) for row in own] == [("equipment", 100_000), ("travel", 25_050)]
    assert selectors.top_merchants(user=other_tenant.finance, month=month)[0]["merchant"] == "Globex Supplies"
    assert len(selectors.top_merchants(user=tenant.finance, month=month, limit=1)) == 1


@pytest.mark.django_db
def test_spend_per_day_is_zero_filled_from_the_first_of_the_month_to_today(tenant):
    month = _month(tenant.finance)
    per_day = selectors.spend_per_day(user=tenant.finance, month=month)
    today = timezone.now().date()  # the tenant's timezone is UTC
    assert len(per_day) == today.day
    assert all(row["total_minor"] == 0 for row in per_day)


@pytest.mark.django_db(transaction=True)
def test_the_dashboards_sums_count_what_budgets_count_within_the_tenant(tenant, other_tenant):
    """Spends and claims posted and not reversed: a reversed, a rejected and a pending spend count nowhere,
    another tenant's spend neither (the sums on known days and months: tests/reports/test_dashboard.py)."""
    spend_settled(user=tenant.employee, amount="1000.00", category="equipment")
    claim_submit(tenant.employee, "40.00", category="meals")
    settle_all(tenant.organization)
    spend_settled(user=tenant.other_employee, amount="250.00", category="travel")
    reversed_spend = spend_settled(user=tenant.employee, amount="700.00", category="travel")
    transaction_reverse(actor=tenant.finance, original_id=reversed_spend.id, reason="duplicate", idempotency_key="r-1")
    assert spend_settled(user=tenant.employee, amount="49000.00").status == "rejected"
    spend_submit(tenant.employee, "5.00")  # pending
    spend_settled(user=other_tenant.employee, amount="999.00", category="office")

    organization, now = tenant.organization, timezone.now()
    month = _month(tenant.finance)
    rows = selectors.spend_totals_between(
        organization=organization, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
    )
    assert [(row["category"], row["total_minor"], row["count"]) for row in rows] == [
        ("equipment", 100_000, 1),
        ("meals", 4_000, 1),
        ("travel", 25_000, 1),
    ]
    assert (
        selectors.spend_totals_between(
            organization=organization, start=now - timedelta(hours=2), end=now - timedelta(hours=1)
        )
        == []
    )
    assert selectors.spend_per_month(organization=organization, first_month=month, last_month=month) == {month: 129_000}
    assert selectors.spend_per_department_day(organization=organization, month=month) == {
        (tenant.department.id, now.date()): 129_000  # the tenant's timezone is UTC
    }
