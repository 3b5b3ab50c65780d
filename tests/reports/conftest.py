"""A month of generated activity for the auditors' reports, made through the real services on a
travelling clock: March 2025, long ended and closed by finance on 2 April, so its reports are regenerable
identically.

In it: a two-step approval policy (department head, then finance); the head approves a spend of
their own department (manager chain); finance lowers the department's limit and then signs the
second step (changed a limit and approved under it) and later reverses that spend; the admin adds
a spend rule and changes a standing limit; a role is changed and a user frozen; and one decision
the engine would refuse (the spender approving their own spend) is inserted below the service.
The change log is dated by PostgreSQL's clock, which does not travel: the reports read from it
(the changes report, the access review's roles) are tested on today in test_change_log_reports.py.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import time_machine

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalDecision, ApprovalRequest
from apps.budgets.services import budget_period_set_limit
from apps.controls import services as control_services
from apps.ledger.closing import month_close
from apps.ledger.models import Transaction
from apps.reports.periods import Period, period_parse
from apps.spending import services as spending_services
from apps.spending.approval_requests import approval_expire_due
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Department, Organization, Role, User
from tests.factories import PASSWORD, DepartmentFactory, OrganizationFactory, UserFactory
from tests.spends import refreshed, settle_all, spend_reverse, spend_submit

MONTH = "2025-03"
NEXT_MONTH = "2025-04"


def at(day: int, hour: int, month: int = 3):
    """The clock at that moment of 2025, ticking from there."""
    return time_machine.travel(datetime(2025, month, day, hour, 0, tzinfo=UTC), tick=True)


@dataclass
class Month:
    organization: Organization
    company: Department
    engineering: Department
    admin: User
    finance: User
    head: User
    employee: User
    auditor: User
    approved_by_head: Transaction
    approved_and_reversed: Transaction
    self_approved: Transaction
    posted_small: Transaction

    def period(self, month: str = MONTH) -> Period:
        return period_parse(organization=self.organization, month=month)


def _held(user, amount: str) -> tuple[Transaction, ApprovalRequest]:
    spend = spend_submit(user, amount)
    settle_all(user.organization)
    return refreshed(spend), ApprovalRequest.objects.get(transaction=spend)


def generate_month(name: str = "Audited Corp") -> Month:
    with at(1, 9):
        organization = OrganizationFactory(name=name)
        company = DepartmentFactory(organization=organization, name="Company", monthly_limit_minor=10_000_000)
        engineering = DepartmentFactory(
            organization=organization, name="Engineering", monthly_limit_minor=5_000_000, parent=company
        )
        admin = UserFactory(role=Role.ORG_ADMIN, organization=organization, email=f"admin@{organization.slug}.test")

        def user(role: str, local: str) -> User:
            return tenancy_services.user_create(
                actor=admin,
                email=f"{local}@{organization.slug}.test",
                password=PASSWORD,
                role=role,
                organization=organization,
                department_id=engineering.id,
            )

        finance = user(Role.FINANCE_MANAGER, "finance")
        head = user(Role.EMPLOYEE, "head")
        employee = user(Role.EMPLOYEE, "employee")
        auditor = user(Role.EMPLOYEE, "auditor")
        tenancy_services.department_set_head(actor=admin, department=engineering, head=head)
        approval_services.approval_policy_create(
            organization=organization,
            name="Large spend",
            min_amount_minor=50_000,
            levels=["department_head", "finance_manager"],
        )
    with at(3, 10):
        posted_small = spend_submit(employee, "100.00")
        approved_by_head, request = _held(employee, "600.00")
        spending_services.approval_decide(actor=head, request_id=request.id, approve=True, note="needed")
        spending_services.approval_decide(actor=finance, request_id=request.id, approve=True)
    with at(5, 11):
        budget_period_set_limit(department=engineering, month=date(2025, 3, 1), limit_minor=4_000_000, actor=finance)
        approved_and_reversed, request = _held(employee, "700.00")
        spending_services.approval_decide(actor=head, request_id=request.id, approve=True, note="ok")
        spending_services.approval_decide(actor=finance, request_id=request.id, approve=True)
    with at(10, 12):
        control_services.spend_rule_create(
            actor=admin,
            organization=organization,
            fields=control_services.RuleFields(name="No gambling", kind="blocked_category", category="gambling"),
        )
        tenancy_services.department_set_standing_limit(department=engineering, limit_minor=6_000_000, actor=admin)
        tenancy_services.user_set_role(actor=admin, user=auditor, role=Role.FINANCE_MANAGER)
        tenancy_services.user_freeze(actor=finance, user=head, reason="Card reported stolen.")
        tenancy_services.user_unfreeze(actor=admin, user=head, reason="Card found.")
    with at(12, 13):
        spend_reverse(finance, refreshed(approved_and_reversed), reason="Charged twice by the vendor")
        self_approved, request = _held(employee, "800.00")
        # The service refuses this ("Nobody approves their own spend"): the row is written below it, as a
        # direct database edit would, so the report is shown to find what the engine should have stopped.
        ApprovalDecision.objects.create(
            organization=organization,
            request=request,
            level=0,
            approver=employee,
            outcome=ApprovalDecision.Outcome.APPROVED,
        )
    with at(2, 9, month=4):
        spend_submit(employee, "50.00")
        settle_all(organization)
    with at(2, 10, month=4):
        # March closes once nothing counted in it waits: the self-approved spend's approval has expired.
        approval_expire_due()
        month_close(actor=finance, month=date(2025, 3, 1))
    return Month(
        organization=organization,
        company=company,
        engineering=engineering,
        admin=admin,
        finance=finance,
        head=head,
        employee=employee,
        auditor=auditor,
        approved_by_head=refreshed(approved_by_head),
        approved_and_reversed=refreshed(approved_and_reversed),
        self_approved=refreshed(self_approved),
        posted_small=refreshed(posted_small),
    )


@pytest.fixture
def month(transactional_db) -> Month:
    return generate_month()
