"""Approvals with budget holds, at the service level. Settlement and decisions take the
organization's settlement lock before their transactions, so these commit for real."""

import pytest
from django.utils import timezone

from apps.approvals import selectors, services
from apps.approvals.models import ApprovalRequest
from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Role
from apps.tenancy.services import department_set_head
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import run_in_threads
from tests.factories import DepartmentFactory, UserFactory
from tests.spends import period_now, refreshed, settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def head(tenant):
    user = UserFactory(role=Role.EMPLOYEE, department=tenant.department)
    department_set_head(actor=None, department=tenant.department, head=user)
    return user


def two_step_policy(tenant, min_amount_minor=500_000):
    return services.approval_policy_create(
        organization=tenant.organization,
        name="Large spend",
        min_amount_minor=min_amount_minor,
        levels=["department_head", "finance_manager"],
    )


def period(tenant) -> BudgetPeriod:
    return period_now(tenant.department)


def waiting_spend(tenant, amount="6000.00"):
    spend = spend_submit(tenant.employee, amount)
    settle_all(tenant.organization)
    return refreshed(spend), ApprovalRequest.objects.get(transaction=spend)


def test_a_spend_in_the_band_is_held_and_waits(tenant, head):
    two_step_policy(tenant)
    small = spend_submit(tenant.employee, "100.00")
    spend, request = waiting_spend(tenant)
    assert refreshed(small).status == Transaction.Status.POSTED
    assert spend.status == Transaction.Status.AWAITING_APPROVAL
    assert request.levels == ["department_head", "finance_manager"] and request.current_level == 0
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (10_000, 600_000)
    assert not Entry.objects.filter(transaction=spend).exists()
    assert ledger_verify()["ok"]


def test_the_last_approval_turns_the_hold_into_spend_with_a_journal(tenant, head):
    two_step_policy(tenant)
    spend, request = waiting_spend(tenant)
    spending_services.approval_decide(actor=head, request_id=request.id, approve=True, note="needed")
    assert refreshed(spend).status == Transaction.Status.AWAITING_APPROVAL
    assert ApprovalRequest.objects.get(id=request.id).current_level == 1
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert refreshed(spend).status == Transaction.Status.POSTED
    assert ApprovalRequest.objects.get(id=request.id).status == ApprovalRequest.Status.APPROVED
    assert sorted(Entry.objects.filter(transaction=spend).values_list("amount_minor", flat=True)) == [-600_000, 600_000]
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (600_000, 0)
    assert ledger_verify()["ok"]


def test_a_rejection_releases_the_hold_with_a_reason(tenant, head):
    two_step_policy(tenant)
    spend, request = waiting_spend(tenant)
    with pytest.raises(InvalidInput):
        spending_services.approval_decide(actor=head, request_id=request.id, approve=False, note="")
    spending_services.approval_decide(actor=head, request_id=request.id, approve=False, note="not this quarter")
    spend = refreshed(spend)
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason == (
        f"Rejected at approval step 1 (department head) by {head.email}: not this quarter"
    )
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (0, 0)
    with pytest.raises(Conflict):
        spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert ledger_verify()["ok"]


def test_separation_of_duties(tenant, head):
    services.approval_policy_create(
        organization=tenant.organization,
        name="Two finance signatures",
        min_amount_minor=100_000,
        levels=["finance_manager", "finance_manager"],
    )
    spend = spend_submit(tenant.finance, "2000.00", department_id=tenant.department.id)  # a finance manager's own spend
    settle_all(tenant.organization)
    own = ApprovalRequest.objects.get(transaction=spend)
    with pytest.raises(Forbidden, match="own spend"):
        spending_services.approval_decide(actor=tenant.finance, request_id=own.id, approve=True)

    _, request = waiting_spend(tenant, "2000.00")
    with pytest.raises(Forbidden, match="waits for the finance manager"):
        spending_services.approval_decide(actor=head, request_id=request.id, approve=True)
    with pytest.raises(Forbidden):
        spending_services.approval_decide(actor=tenant.employee, request_id=request.id, approve=True)
    # A second finance manager exists, so the second step is not escalated (see test_routing_*).
    second_finance = UserFactory(role=Role.FINANCE_MANAGER, organization=tenant.organization)
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    with pytest.raises(Forbidden, match="already signed"):
        spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    spending_services.approval_decide(actor=second_finance, request_id=request.id, approve=True)
    assert ApprovalRequest.objects.get(id=request.id).status == ApprovalRequest.Status.APPROVED


def test_another_tenant_cannot_decide(tenant, head, other_tenant):
    two_step_policy(tenant)
    _, request = waiting_spend(tenant)
    with pytest.raises(NotFound):
        spending_services.approval_decide(actor=other_tenant.finance, request_id=request.id, approve=True)


def test_without_a_head_the_org_admin_signs_the_head_step(tenant):
    two_step_policy(tenant)
    _, request = waiting_spend(tenant)
    spending_services.approval_decide(actor=tenant.admin, request_id=request.id, approve=True)
    assert ApprovalRequest.objects.get(id=request.id).current_level == 1


def test_a_department_head_step_waits_for_the_nearest_head_above(tenant):
    """Engineering (the root, head A) > Platform (no head) > Runtime (head B); Sales > Field (no heads)."""
    head_a, head_b = UserFactory(department=tenant.department), UserFactory(department=tenant.department)
    platform = DepartmentFactory(organization=tenant.organization, parent=tenant.department)
    runtime = DepartmentFactory(organization=tenant.organization, parent=platform)
    sales = DepartmentFactory(organization=tenant.organization)
    field = DepartmentFactory(organization=tenant.organization, parent=sales)
    department_set_head(actor=None, department=tenant.department, head=head_a)
    department_set_head(actor=None, department=runtime, head=head_b)
    heads = selectors.nearest_department_heads(organization_id=tenant.organization.id)
    assert heads == {
        tenant.department.id: head_a.id,
        platform.id: head_a.id,
        runtime.id: head_b.id,
        sales.id: None,
        field.id: None,
    }


def test_pending_approvals_list_in_a_fixed_number_of_queries(tenant, head, django_assert_max_num_queries):
    two_step_policy(tenant, min_amount_minor=100)
    team = DepartmentFactory(organization=tenant.organization, parent=tenant.department)
    member = UserFactory(department=team)
    for _ in range(6):
        spend_submit(member, "10.00")
    settle_all(tenant.organization)
    with django_assert_max_num_queries(4):
        waiting = selectors.approval_list(user=head, status=ApprovalRequest.Status.PENDING)
    assert len(waiting) == 6
    assert selectors.approval_list(user=member, status=ApprovalRequest.Status.PENDING) == []


def test_policy_choice_prefers_the_highest_band_then_the_most_specific(tenant, head):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales", monthly_limit_minor=10_000_000)
    services.approval_policy_create(
        organization=tenant.organization, name="Any", min_amount_minor=100_000, levels=["finance_manager"]
    )
    services.approval_policy_create(
        organization=tenant.organization,
        name="Big",
        min_amount_minor=1_000_000,
        levels=["department_head", "finance_manager"],
    )
    services.approval_policy_create(
        organization=tenant.organization,
        name="Engineering travel",
        min_amount_minor=100_000,
        levels=["org_admin"],
        department_id=tenant.department.id,
        category="travel",
    )
    travel = spend_submit(tenant.employee, "2000.00", category="travel")
    gear = spend_submit(tenant.employee, "2000.00")
    big = spend_submit(tenant.employee, "20000.00", category="travel")
    sales_travel = spend_submit(tenant.finance, "2000.00", department_id=sales.id, category="travel")
    settle_all(tenant.organization)
    levels = {t.id: ApprovalRequest.objects.get(transaction=t).levels for t in (travel, gear, big, sales_travel)}
    assert levels[travel.id] == ["org_admin"]
    assert levels[gear.id] == ["finance_manager"]
    assert levels[big.id] == ["department_head", "finance_manager"]
    # Policy "Any"; its finance step is the spender's own (the only finance manager), so it escalates.
    assert ApprovalRequest.objects.get(transaction=sales_travel).policy.name == "Any"
    assert levels[sales_travel.id] == ["org_admin"]


def test_bad_policies_are_refused(tenant, other_tenant):
    for levels in ([], ["ceo"], ["finance_manager"] * 6):
        with pytest.raises(InvalidInput):
            services.approval_policy_create(
                organization=tenant.organization, name="x", min_amount_minor=1, levels=levels
            )
    with pytest.raises(InvalidInput):
        services.approval_policy_create(
            organization=tenant.organization, name="x", min_amount_minor=0, levels=["finance_manager"]
        )
    with pytest.raises(NotFound):
        services.approval_policy_create(
            organization=tenant.organization,
            name="x",
            min_amount_minor=1,
            levels=["finance_manager"],
            department_id=other_tenant.department.id,
        )


def test_expiry_releases_the_hold(tenant, head):
    two_step_policy(tenant)
    spend, request = waiting_spend(tenant)
    assert spending_services.approval_expire_due() == 0
    assert spending_services.approval_expire_due(now=timezone.now() + timezone.timedelta(days=4)) == 1
    spend = refreshed(spend)
    assert spend.status == Transaction.Status.REJECTED
    assert "Approval expired" in spend.rejection_reason
    assert ApprovalRequest.objects.get(id=request.id).status == ApprovalRequest.Status.EXPIRED
    assert period(tenant).held_minor == 0
    assert ledger_verify()["ok"]


@pytest.mark.slow
def test_holds_and_ordinary_spends_racing_never_overrun_the_budget(tenant):
    BudgetPeriod.objects.all().delete()  # reopened from the standing limit below
    tenant.department.monthly_limit_minor = 1_000_000
    tenant.department.save()
    services.approval_policy_create(
        organization=tenant.organization, name="Over 2k", min_amount_minor=200_000, levels=["finance_manager"]
    )
    held = [spend_submit(tenant.employee, "3000.00") for _ in range(4)]
    ordinary = [spend_submit(tenant.other_employee, "1000.00") for _ in range(8)]
    spends = held + ordinary

    def settle_one(index):
        from apps.spending.services import settlement_run

        return settlement_run(organization_id=tenant.organization.id, batch_size=1)

    run_in_threads(len(spends), settle_one)
    settle_all(tenant.organization)
    budget = period(tenant)
    assert budget.spent_minor + budget.held_minor <= budget.limit_minor
    for request in ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING):
        spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    budget = period(tenant)
    assert budget.held_minor == 0 and budget.spent_minor <= budget.limit_minor
    assert ledger_verify()["ok"]


@pytest.mark.slow
def test_two_approvers_at_once_produce_one_outcome_and_one_journal(tenant):
    services.approval_policy_create(
        organization=tenant.organization,
        name="One finance signature",
        min_amount_minor=100_000,
        levels=["finance_manager"],
    )
    approvers = [tenant.finance, UserFactory(role=Role.FINANCE_MANAGER, organization=tenant.organization)]
    spend, request = waiting_spend(tenant, "2000.00")

    def approve(index):
        try:
            spending_services.approval_decide(actor=approvers[index], request_id=request.id, approve=True)
            return "approved"
        except Conflict:
            return "conflict"

    assert sorted(run_in_threads(2, approve)) == ["approved", "conflict"]
    assert Entry.objects.filter(transaction=spend).count() == 2
    assert ApprovalRequest.objects.get(id=request.id).decisions.count() == 1
    assert ledger_verify()["ok"]
