"""The tallies the limits read instead of the month's spends: whatever happens to the spends (posted,
held, approved, rejected, expired, reversed, refused), each tally is the sum of the spends it counts,
posted or held, by employee, department, category and the organization's local day.

transaction=True: settlement, approvals and reversals take the settlement lock outside any transaction.
"""

from datetime import timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalRequest
from apps.controls.models import SpendTally
from apps.controls.policy import PolicyRefused
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from tests.controls.conftest import rule
from tests.factories import DepartmentFactory, UserFactory
from tests.spends import refreshed, settle_all, spend_reverse, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

BACKFILL = import_module("apps.controls.migrations.0002_spend_tally").BACKFILL


def tallies() -> dict:
    return {
        (t.employee_id, t.department_id, t.category, t.day, t.month): t.amount_minor
        for t in SpendTally.objects.all()
        if t.amount_minor
    }


def counted_spends(timezone_name: str) -> dict:
    """The tallies as they should be, summed from the spends themselves."""
    expected: dict = {}
    for spend in Transaction.objects.filter(
        kind=Transaction.Kind.SPEND, status__in=(Transaction.Status.POSTED, Transaction.Status.AWAITING_APPROVAL)
    ):
        day = spend.created_at.astimezone(ZoneInfo(timezone_name)).date()
        key = (spend.employee_id, spend.department_id, spend.category, day, spend.budget_month)
        expected[key] = expected.get(key, 0) + spend.amount_minor
    return expected


def test_tallies_follow_every_spend_whatever_becomes_of_it(tenant):
    organization = tenant.organization
    sales = DepartmentFactory(organization=organization, name="Sales", monthly_limit_minor=100_000)
    seller = UserFactory(department=sales)
    approval_services.approval_policy_create(
        organization=organization, name="Large", min_amount_minor=100_000, levels=["finance_manager"]
    )
    rule(tenant, "blocked_merchant", merchant="*casino*")
    posted = spend_submit(tenant.employee, "20.00", category="travel")
    spend_submit(tenant.employee, "30.00", category="meals")
    spend_submit(tenant.other_employee, "40.00", category="travel")
    spend_submit(seller, "50.00", category="travel")
    spend_submit(seller, "5000.00", category="travel")  # over Sales' $1,000: refused, counts nothing
    to_approve = spend_submit(tenant.employee, "1500.00")
    to_reject = spend_submit(tenant.employee, "1600.00")
    to_expire = spend_submit(tenant.other_employee, "1700.00")
    settle_all(organization)
    with pytest.raises(PolicyRefused):
        spend_submit(tenant.employee, "9.00", merchant="Lucky Casino")
    assert tallies() == counted_spends("UTC")

    spending_services.approval_decide(actor=tenant.finance, request_id=refreshed(to_approve).approval.id, approve=True)
    spending_services.approval_decide(
        actor=tenant.finance, request_id=refreshed(to_reject).approval.id, approve=False, note="no"
    )
    ApprovalRequest.objects.filter(transaction=to_expire).update(expires_at=timezone.now() - timedelta(minutes=1))
    spending_services.approval_expire_due()
    spend_reverse(tenant.finance, refreshed(posted))

    assert refreshed(to_approve).status == Transaction.Status.POSTED
    assert refreshed(to_reject).status == refreshed(to_expire).status == Transaction.Status.REJECTED
    assert tallies() == counted_spends("UTC")
    assert sum(tallies().values()) == 3_000 + 4_000 + 5_000 + 150_000


def test_the_migration_counts_the_spends_accepted_before_tallies_were_kept(tenant):
    organization = tenant.organization
    organization.timezone = "Pacific/Auckland"  # a day that is never UTC's
    organization.save()
    spend_submit(tenant.employee, "20.00", category="travel")
    spend_submit(tenant.other_employee, "30.00", category="meals")
    settle_all(organization)
    kept = tallies()
    assert kept == counted_spends("Pacific/Auckland")

    SpendTally.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
    assert tallies() == kept
