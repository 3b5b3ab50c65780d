"""Approvals at the edges: a limit lowered under a held spend, an expired request, a step only the
spender could sign, and approvers racing a limit change."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.utils import IntegrityError
from django.utils import timezone

from apps.approvals import services
from apps.approvals.models import ApprovalRequest, SpenderStep
from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_period_set_limit
from apps.budgets.totals import BudgetExceeded
from apps.ledger.models import Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Role
from apps.tenancy.services import department_set_head
from ledgerx.errors import Conflict
from ledgerx.months import month_start
from tests.factories import UserFactory
from tests.spends import refreshed, settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def policy(tenant, levels, spender_step=SpenderStep.ESCALATE, min_amount_minor=100_000):
    created = services.approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=min_amount_minor, levels=levels
    )
    created.spender_step = spender_step
    created.save(update_fields=["spender_step"])
    return created


def waiting(tenant, user, amount="2000.00"):
    spend = spend_submit(user, amount)
    settle_all(tenant.organization)
    return refreshed(spend), ApprovalRequest.objects.get(transaction=spend)


def this_month(tenant):
    return month_start(timezone.now(), tenant.organization.timezone)


def period(tenant) -> BudgetPeriod:
    return BudgetPeriod.objects.get(department=tenant.department, month=this_month(tenant))


def test_approving_a_spend_that_no_longer_fits_is_refused_and_the_request_stays_open(tenant):
    policy(tenant, ["finance_manager"])
    spend, request = waiting(tenant, tenant.employee, "2000.00")
    budget_period_set_limit(actor=None, department=tenant.department, month=this_month(tenant), limit_minor=100_000)

    with pytest.raises(BudgetExceeded, match=r"budget exceeded.*still waits: raise the limit") as refused:
        spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert refused.value.status == 409 and refused.value.code == "budget_exceeded"
    assert ApprovalRequest.objects.get(id=request.id).status == ApprovalRequest.Status.PENDING
    assert not ApprovalRequest.objects.get(id=request.id).decisions.exists()
    assert refreshed(spend).status == Transaction.Status.AWAITING_APPROVAL
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (0, 200_000)

    budget_period_set_limit(actor=None, department=tenant.department, month=this_month(tenant), limit_minor=300_000)
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert refreshed(spend).status == Transaction.Status.POSTED
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (200_000, 0)
    assert ledger_verify()["ok"]


def test_the_database_refuses_an_update_that_raises_spent_past_the_limit(tenant):
    """The class, not the case: any path that forgets to ask BudgetTotals is stopped by the trigger."""
    policy(tenant, ["finance_manager"])
    waiting(tenant, tenant.employee, "2000.00")
    budget_period_set_limit(actor=None, department=tenant.department, month=this_month(tenant), limit_minor=100_000)
    with pytest.raises(IntegrityError, match="over a limit"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = spent_minor + held_minor, held_minor = 0 WHERE id = %s",
            [period(tenant).id],
        )
    with connection.cursor() as cursor:  # giving money back always passes, even over the limit
        cursor.execute("UPDATE budgets_budgetperiod SET held_minor = 0 WHERE id = %s", [period(tenant).id])


def test_deciding_an_expired_request_is_refused_and_expires_it(tenant):
    policy(tenant, ["finance_manager"])
    spend, request = waiting(tenant, tenant.employee)
    ApprovalRequest.objects.filter(id=request.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(Conflict, match="expired"):
        spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert ApprovalRequest.objects.get(id=request.id).status == ApprovalRequest.Status.EXPIRED
    assert refreshed(spend).status == Transaction.Status.REJECTED
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (0, 0)
    assert ledger_verify()["ok"]


def test_a_heads_own_spend_escalates_to_finance_instead_of_waiting_forever(tenant):
    head = UserFactory(role=Role.EMPLOYEE, department=tenant.department)
    department_set_head(actor=None, department=tenant.department, head=head)
    policy(tenant, ["department_head"])
    spend, request = waiting(tenant, head)

    assert request.levels == ["finance_manager"] and request.current_level == 0
    assert request.routing[0]["action"] == "escalated"
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    assert refreshed(spend).status == Transaction.Status.POSTED


def test_a_skipping_policy_passes_a_heads_own_spend_to_the_next_step(tenant):
    head = UserFactory(role=Role.EMPLOYEE, department=tenant.department)
    department_set_head(actor=None, department=tenant.department, head=head)
    policy(tenant, ["department_head", "org_admin"], spender_step=SpenderStep.SKIP)
    spend, request = waiting(tenant, head)

    assert request.levels == ["department_head", "org_admin"] and request.current_level == 1
    assert request.routing[0]["action"] == "skipped"
    spending_services.approval_decide(actor=tenant.admin, request_id=request.id, approve=True)
    assert refreshed(spend).status == Transaction.Status.POSTED


def test_a_later_step_only_an_earlier_signer_could_sign_escalates(tenant):
    policy(tenant, ["finance_manager", "finance_manager"])  # one finance manager in the tenant
    spend, request = waiting(tenant, tenant.employee)
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True)
    request = ApprovalRequest.objects.get(id=request.id)
    assert request.levels == ["finance_manager", "org_admin"] and request.current_level == 1
    spending_services.approval_decide(actor=tenant.admin, request_id=request.id, approve=True)
    assert refreshed(spend).status == Transaction.Status.POSTED


def test_a_spend_nobody_else_could_ever_approve_is_rejected_at_once(tenant):
    policy(tenant, ["org_admin"])
    for user in (tenant.finance, tenant.admin):
        user.is_active = user == tenant.admin
        user.save(update_fields=["is_active"])
    spend = spend_submit(tenant.admin, "2000.00", department_id=tenant.department.id)
    settle_all(tenant.organization)
    assert refreshed(spend).status == Transaction.Status.REJECTED
    assert "No one but the spender" in refreshed(spend).rejection_reason
    assert (period(tenant).spent_minor, period(tenant).held_minor) == (0, 0)


def test_approvers_racing_a_limit_change_never_leave_spent_over_the_limit(tenant):
    """Real threads: finance approves held spends while an admin lowers and raises the limit."""
    policy(tenant, ["finance_manager"], min_amount_minor=50_000)
    second_finance = UserFactory(role=Role.FINANCE_MANAGER, organization=tenant.organization)
    requests = [waiting(tenant, tenant.employee, "600.00")[1] for _ in range(8)]  # 4,800.00 held of 50,000.00
    barrier = threading.Barrier(3)
    outcomes: list[str] = []
    errors: list[Exception] = []

    def approve(approver, mine) -> None:
        try:
            barrier.wait()
            for request in mine:
                try:
                    spending_services.approval_decide(actor=approver, request_id=request.id, approve=True)
                    outcomes.append("approved")
                except BudgetExceeded:
                    outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def squeeze() -> None:
        try:
            barrier.wait()
            for limit in (150_000, 500_000, 100_000, 5_000_000, 0):
                budget_period_set_limit(
                    actor=None, department=tenant.department, month=this_month(tenant), limit_minor=limit
                )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=approve, args=(tenant.finance, requests[::2])),
        threading.Thread(target=approve, args=(second_finance, requests[1::2])),
        threading.Thread(target=squeeze),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(outcomes) == 8
    posted = Transaction.objects.filter(status=Transaction.Status.POSTED).count()
    assert posted == outcomes.count("approved")
    row = period(tenant)
    assert row.spent_minor == posted * 60_000
    assert row.held_minor == (8 - posted) * 60_000
    # Every approval checked the limit in force when it ran: none posted over it, so the ledger
    # agrees with the budget and each approval's own check held (verify reports any period over).
    report = ledger_verify()
    assert not [problem for problem in report["problems"] if "says" in problem or "holds" in problem]
