"""Spend rules decided at settlement, in the transaction of the budget check: a refused spend is
rejected with the rule in words, nothing is posted, no entry is written and no budget moves; every
settled spend records the policy version it was decided on.

Settlement takes an advisory lock outside any transaction, so these tests commit for real.
"""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.approvals import services as approval_services
from apps.budgets.models import BudgetPeriod
from apps.controls import services
from apps.controls.models import WEEKDAYS
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from tests.controls.conftest import rule
from tests.factories import DepartmentFactory, UserFactory
from tests.spends import refreshed, settle_all, spend_reverse, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def budget_used(department) -> tuple[int, int]:
    period = BudgetPeriod.objects.filter(department=department).first()
    return (period.spent_minor, period.held_minor) if period else (0, 0)


def _every_day_but(moment) -> list[str]:
    """Weekdays that leave out the one `moment` falls on (the tenant's organization is on UTC)."""
    return [day for day in WEEKDAYS if day != WEEKDAYS[moment.weekday()]]


# Rules a spend can break by itself. Acceptance would refuse such a spend, so each is accepted first
# and the rule added before it settles: the rule applies to spends settled after it.
SELF_EVIDENT = [
    pytest.param(
        {"kind": "blocked_category", "category": "gambling"},
        {"category": "gambling"},
        "Policy 'Blocked category' (version 1): the category 'gambling' is blocked.",
        id="blocked_category",
    ),
    pytest.param(
        {"kind": "blocked_merchant", "merchant": "*casino*"},
        {"merchant": "Lucky Casino"},
        "Policy 'Blocked merchant' (version 1): the merchant 'Lucky Casino' is blocked "
        "(merchants matching '*casino*').",
        id="blocked_merchant",
    ),
    pytest.param(
        {"kind": "employee_limit", "amount_minor": 50_000, "period": "spend"},
        {},
        "Policy 'Employee limit' (version 1): at most $500 per spend, for each employee. Requested: $600",
        id="per_spend_limit",
    ),
    pytest.param(
        {"kind": "allowed_hours", "from_minute": 0, "until_minute": 24 * 60, "weekdays": _every_day_but},
        {},
        "Policy 'Allowed hours' (version 1): spending is allowed ",
        id="allowed_hours",
    ),
    pytest.param(
        {"kind": "description_required_above", "amount_minor": 10_000},
        {},
        "Policy 'Description required above' (version 1): a description is required above $100. Requested: $600",
        id="description_required_above",
    ),
]


@pytest.mark.parametrize(("fields", "spend_fields", "reason"), SELF_EVIDENT)
def test_a_rule_added_after_acceptance_refuses_at_settlement_and_moves_nothing(tenant, fields, spend_fields, reason):
    spend = spend_submit(tenant.employee, "600.00", **spend_fields)
    if callable(fields.get("weekdays")):  # every day but the one the spend came on
        fields = {**fields, "weekdays": fields["weekdays"](spend.created_at)}
    rule(tenant, **fields)
    settle_all(tenant.organization)
    spend = refreshed(spend)
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason.startswith(reason)
    assert spend.policy_version == 1
    assert not Entry.objects.exists()
    assert budget_used(tenant.department) == (0, 0)
    assert ledger_verify()["ok"]


def test_a_day_limit_counts_what_was_posted_today_and_the_batch_so_far(tenant):
    rule(tenant, "employee_limit", "Daily", amount_minor=100_000, period="day")
    settle_all(tenant.organization)
    spend_submit(tenant.employee, "500.00")
    settle_all(tenant.organization)
    # One batch: the first fits beside the $500 already posted, the second no longer does.
    fits, over = spend_submit(tenant.employee, "300.00"), spend_submit(tenant.employee, "300.00")
    someone_else = spend_submit(tenant.other_employee, "300.00")
    settle_all(tenant.organization)
    assert refreshed(fits).status == Transaction.Status.POSTED
    assert refreshed(someone_else).status == Transaction.Status.POSTED
    over = refreshed(over)
    assert over.status == Transaction.Status.REJECTED
    assert over.rejection_reason == (
        "Policy 'Daily' (version 1): at most $1,000 a day, for each employee. Current: $800, Requested: $300"
    )
    assert budget_used(tenant.department) == (110_000, 0)
    assert Entry.objects.count() == 6


def test_a_month_limit_counts_spends_awaiting_approval_but_not_refused_or_reversed_ones(tenant):
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=100_000, levels=["finance_manager"]
    )
    rule(tenant, "employee_limit", "Monthly", amount_minor=300_000, period="month")
    held = spend_submit(tenant.employee, "1500.00")
    posted = spend_submit(tenant.employee, "500.00")
    settle_all(tenant.organization)
    assert refreshed(held).status == Transaction.Status.AWAITING_APPROVAL
    spend_reverse(tenant.finance, refreshed(posted))  # gives its $500 back
    too_much = spend_submit(tenant.employee, "1600.00")
    settle_all(tenant.organization)
    too_much = refreshed(too_much)
    assert too_much.status == Transaction.Status.REJECTED
    assert too_much.rejection_reason.endswith("Current: $1,500, Requested: $1,600")
    just_right = spend_submit(tenant.employee, "1500.00")  # the refused $1,600 counted for nothing
    settle_all(tenant.organization)
    assert refreshed(just_right).status == Transaction.Status.AWAITING_APPROVAL
    assert budget_used(tenant.department) == (0, 300_000)


def test_a_limit_for_one_role_leaves_the_other_roles_alone(tenant):
    rule(tenant, "employee_limit", "Finance", amount_minor=10_000, period="day", role="finance_manager")
    employee_spend = spend_submit(tenant.employee, "200.00")
    finance_spend = spend_submit(tenant.finance, "200.00", department_id=tenant.department.id)
    settle_all(tenant.organization)
    assert refreshed(employee_spend).status == Transaction.Status.POSTED
    assert refreshed(finance_spend).status == Transaction.Status.REJECTED


def test_a_category_limit_counts_the_departments_whole_subtree(tenant):
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    platform_member, seller = UserFactory(department=platform), UserFactory(department=sales)
    rule(
        tenant,
        "category_limit",
        "Engineering travel",
        category="travel",
        amount_minor=100_000,
        department_id=tenant.department.id,
    )
    spend_submit(platform_member, "800.00", category="travel")
    spend_submit(seller, "900.00", category="travel")  # another subtree
    settle_all(tenant.organization)
    over = spend_submit(tenant.employee, "300.00", category="travel")
    meals = spend_submit(tenant.employee, "300.00", category="meals")
    settle_all(tenant.organization)
    over = refreshed(over)
    assert over.status == Transaction.Status.REJECTED
    assert over.rejection_reason == (
        "Policy 'Engineering travel' (version 1): at most $1,000 a month of 'travel' in Engineering and below. "
        "Current: $800, Requested: $300"
    )
    assert refreshed(meals).status == Transaction.Status.POSTED
    assert budget_used(tenant.department) == (110_000, 0)


def test_a_policy_refusal_comes_before_the_budget_and_takes_no_budget(tenant):
    spend = spend_submit(tenant.employee, "60000.00", category="gambling")  # over the $50,000 budget too
    rule(tenant, "blocked_category", "No gambling", category="gambling")
    settle_all(tenant.organization)
    assert refreshed(spend).rejection_reason == "Policy 'No gambling' (version 1): the category 'gambling' is blocked."


def test_inactive_rules_do_not_apply(tenant):
    rule(tenant, "blocked_category", category="gambling", is_active=False)
    spend = spend_submit(tenant.employee, "5.00", category="gambling")
    settle_all(tenant.organization)
    assert refreshed(spend).status == Transaction.Status.POSTED


def test_every_settled_spend_records_the_version_it_was_decided_on(tenant):
    before_any = spend_submit(tenant.employee, "1.00")
    settle_all(tenant.organization)
    assert refreshed(before_any).policy_version is None  # no rule ever

    made = rule(tenant, "employee_limit", "Per spend", amount_minor=1_000, period="spend")
    under_one = spend_submit(tenant.employee, "5.00")
    settle_all(tenant.organization)
    refused_under_two = spend_submit(tenant.employee, "10.00")
    services.spend_rule_update(
        actor=tenant.admin, rule_id=made.id, organization=tenant.organization, changes={"amount_minor": 100}
    )
    settle_all(tenant.organization)
    services.spend_rule_delete(actor=tenant.admin, rule_id=made.id, organization=tenant.organization)
    under_three = spend_submit(tenant.employee, "5.00")
    over_budget = spend_submit(tenant.employee, "60000.00")
    settle_all(tenant.organization)

    assert (refreshed(under_one).status, refreshed(under_one).policy_version) == (Transaction.Status.POSTED, 1)
    refused = refreshed(refused_under_two)
    assert (refused.policy_version, refused.rejection_reason) == (
        2,
        "Policy 'Per spend' (version 2): at most $1 per spend, for each employee. Requested: $10",
    )
    assert (refreshed(under_three).status, refreshed(under_three).policy_version) == (Transaction.Status.POSTED, 3)
    over_budget = refreshed(over_budget)
    assert over_budget.policy_version == 3 and over_budget.rejection_reason.startswith("Department 'Engineering'")


def test_the_settlement_reads_the_limits_totals_in_one_query(tenant, django_assert_max_num_queries):
    """The totals are read set-based, once per batch, not per spend or per rule."""
    rule(tenant, "employee_limit", amount_minor=10**9, period="day")
    rule(tenant, "category_limit", category="travel", amount_minor=10**9, department_id=tenant.department.id)
    for _ in range(3):
        spend_submit(tenant.employee, "1.00", category="travel")
    spend_submit(tenant.other_employee, "1.00", category="travel")
    from apps.spending import services as spending_services

    with django_assert_max_num_queries(40) as captured:
        spending_services.settlement_run(organization_id=tenant.organization.id)
    sums = [query["sql"] for query in captured.captured_queries if "SUM(" in (query["sql"] or "").upper()]
    assert len(sums) == 1
    assert Transaction.objects.filter(status=Transaction.Status.POSTED).count() == 4


def test_a_day_limit_counts_the_organizations_day_not_utcs(tenant):
    """A spend made just after midnight in Paris is yesterday in UTC, and today for the limit."""
    organization = tenant.organization
    organization.timezone = "Europe/Paris"
    organization.save()
    paris = ZoneInfo("Europe/Paris")
    just_after_midnight = timezone.now().astimezone(paris).replace(hour=0, minute=1, second=0, microsecond=0)
    if timezone.now() < just_after_midnight + timedelta(minutes=1):
        pytest.skip("needs a minute of today in Paris behind it")
    rule(tenant, "employee_limit", "Daily", amount_minor=100_000, period="day")
    early = spend_submit(tenant.employee, "800.00")
    Transaction.objects.filter(id=early.id).update(created_at=just_after_midnight)
    assert just_after_midnight.astimezone(UTC).date() < timezone.now().astimezone(paris).date()
    settle_all(organization)
    later = spend_submit(tenant.employee, "300.00")
    settle_all(organization)
    assert refreshed(later).rejection_reason.endswith("Current: $800, Requested: $300")
