"""A department moves in the tree with its budget: the subtree's spend and holds leave the ancestors
it no longer has and join the new ones, under the settlement lock, or the move is refused."""

import threading

import pytest
from django.db import connections
from django.utils import timezone

from apps.approvals import services as approval_services
from apps.budgets.department_moves import department_change
from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_period_set_limit
from apps.budgets.totals import BudgetExceeded
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Department, Role
from ledgerx.months import month_start
from tests.factories import DepartmentFactory, UserFactory
from tests.spends import settle_all, spend_reverse, spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)  # settlement and moves take the lock outside a transaction


def used(department) -> tuple[int, int]:
    """(spent, held) of the department's one period, (0, 0) if it has none."""
    period = BudgetPeriod.objects.filter(department=department).first()
    return (period.spent_minor, period.held_minor) if period else (0, 0)


@pytest.fixture
def tree(tenant):
    """Company > {Engineering > Platform, Sales}; Platform's employee spends."""
    company = DepartmentFactory(organization=tenant.organization, name="Company", monthly_limit_minor=10_000_000)
    department_change(actor=None, department=tenant.department, parent_id=company.id, move=True)
    sales = DepartmentFactory(
        organization=tenant.organization, name="Sales", parent=company, monthly_limit_minor=500_000
    )
    platform = DepartmentFactory(
        organization=tenant.organization, name="Platform", parent=tenant.department, monthly_limit_minor=1_000_000
    )
    platform_employee = UserFactory(role=Role.EMPLOYEE, department=platform)
    return {
        "company": company,
        "engineering": tenant.department,
        "sales": sales,
        "platform": platform,
        "spender": platform_employee,
    }


def test_a_move_takes_spend_and_holds_from_the_old_ancestors_to_the_new(tenant, tree):
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Big", min_amount_minor=200_000, levels=["finance_manager"]
    )
    spend_settled(tree["spender"], "1000.00")
    spend_submit(tree["spender"], "2500.00")  # held for approval
    settle_all(tenant.organization)
    assert used(tree["engineering"]) == (100_000, 250_000)

    department_change(actor=None, department=tree["platform"], parent_id=tree["sales"].id, move=True)

    assert Department.objects.get(id=tree["platform"].id).parent_id == tree["sales"].id
    assert used(tree["engineering"]) == (0, 0)
    assert used(tree["sales"]) == (100_000, 250_000)
    assert used(tree["company"]) == (100_000, 250_000)  # a common ancestor keeps it
    assert used(tree["platform"]) == (100_000, 250_000)
    assert ledger_verify()["ok"]


def test_a_move_whose_money_does_not_fit_a_new_ancestor_is_refused_and_changes_nothing(tenant, tree):
    spend_settled(tree["spender"], "6000.00")  # Sales' limit is 5,000.00
    with pytest.raises(BudgetExceeded, match=r"'Platform' cannot move there.*'Sales' budget exceeded"):
        department_change(actor=None, department=tree["platform"], parent_id=tree["sales"].id, move=True)
    assert Department.objects.get(id=tree["platform"].id).parent_id == tree["engineering"].id
    assert used(tree["engineering"]) == (600_000, 0)
    assert used(tree["sales"]) == (0, 0)
    assert ledger_verify()["ok"]


def test_a_spend_settled_after_a_move_counts_in_the_new_ancestors_only(tenant, tree):
    before_move = spend_settled(tree["spender"], "100.00")
    department_change(actor=None, department=tree["platform"], parent_id=None, move=True)
    spend_settled(tree["spender"], "50.00")
    assert used(tree["platform"]) == (15_000, 0)
    assert used(tree["engineering"]) == (0, 0)
    assert used(tree["company"]) == (0, 0)
    # A reversal after the move gives the budget back where the spend counts now.
    spend_reverse(tenant.finance, before_move)
    assert used(tree["platform"]) == (5_000, 0)
    assert used(tree["engineering"]) == (0, 0)
    assert ledger_verify()["ok"]


def test_moves_racing_settlement_leave_every_budget_equal_to_the_ledger(tenant, tree):
    """Real threads: one moves Platform back and forth while others submit and settle its spend."""
    budget_period_set_limit(
        actor=None,
        department=tree["sales"],
        month=month_start(timezone.now(), tenant.organization.timezone),
        limit_minor=10_000_000,
    )
    stop = threading.Event()
    errors: list[Exception] = []

    def mover() -> None:
        try:
            for round_number in range(12):
                target = tree["sales"] if round_number % 2 == 0 else tree["engineering"]
                department_change(actor=None, department=tree["platform"], parent_id=target.id, move=True)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            stop.set()
            connections.close_all()

    def spender() -> None:
        try:
            while not stop.is_set():
                spend_submit(tree["spender"], "1.00")
                spending_services.settlement_run(organization_id=tenant.organization.id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=mover), *(threading.Thread(target=spender) for _ in range(2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    settle_all(tenant.organization)
    report = ledger_verify()
    assert report["ok"], report["problems"]
    platform_spent = used(tree["platform"])[0]
    assert platform_spent > 0
    final_parent = Department.objects.get(id=tree["platform"].id).parent_id
    assert final_parent == tree["engineering"].id
    assert used(tree["engineering"])[0] == platform_spent and used(tree["sales"])[0] == 0
