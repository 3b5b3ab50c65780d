"""The approvals page, and how held spend shows on the other pages, through Django's test client.

Settlement and decisions take the organization's settlement lock outside any transaction, so the tests
that make a spend wait commit for real.
"""

import pytest

from apps.approvals import services
from apps.approvals.models import ApprovalRequest
from apps.budgets.models import BudgetPeriod
from apps.spending import services as spending_services
from apps.tenancy.models import Department, Role
from apps.tenancy.services import department_set_head
from apps.web.templatetags.web_tags import budget_card
from tests.factories import UserFactory
from tests.spends import settle_all, spend_submit
from tests.web.test_pages import logged_in, nav_titles, text_of


@pytest.fixture
def head(tenant):
    user = UserFactory(role=Role.EMPLOYEE, department=tenant.department, email="head@example.com")
    department_set_head(actor=None, department=tenant.department, head=user)
    return user


def waiting_spend(tenant) -> ApprovalRequest:
    """$6,000 from the tenant's employee under ">= $5,000: department head, then finance manager"."""
    services.approval_policy_create(
        organization=tenant.organization,
        name="Large spend",
        min_amount_minor=500_000,
        levels=["department_head", "finance_manager"],
    )
    spend = spend_submit(tenant.employee, "6000.00", merchant="Dell", category="equipment")
    settle_all(tenant.organization)
    return ApprovalRequest.objects.get(transaction=spend)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_every_role_of_a_tenant_has_the_approvals_page(tenant, role):
    user = tenant.user(role)
    page = logged_in(user).get("/approvals/")
    assert page.status_code == 200
    assert "Approvals" in nav_titles(page)
    assert "Nothing waits for your signature." in page.content.decode()
    assert logged_in(user).get("/approvals/panels").status_code == 200


@pytest.mark.django_db
def test_the_system_admin_has_no_approvals_page(system_admin):
    response = logged_in(system_admin).get("/approvals/")
    assert response.status_code == 403
    assert "Approvals" not in nav_titles(response)
    assert logged_in(system_admin).get("/approvals/panels").status_code == 403


@pytest.mark.django_db(transaction=True)  # settlement and decisions take the settlement lock
def test_the_page_shows_each_approver_what_waits_for_them_with_labelled_controls(tenant, head, other_tenant):
    approval = waiting_spend(tenant)

    page = logged_in(head).get("/approvals/").content.decode()
    text = text_of(page)
    assert "Waiting for you (1)" in text
    assert "$6,000 at Dell" in text
    for fact in (
        f"Employee {tenant.employee.email}",
        "Department Engineering",
        "Category equipment",
        "Waiting for Step 1 of 2: department head",
        "Expires",
    ):
        assert fact in text
    assert f'<label for="note-{approval.id}">Note' in page
    assert f'data-approve="/api/v1/approvals/{approval.id}/approve"' in page
    assert f'data-reject="/api/v1/approvals/{approval.id}/reject"' in page
    assert ">Approve</button>" in page and ">Reject</button>" in page

    for not_yet in (tenant.employee, tenant.finance, other_tenant.finance):  # the spender, a later step, a stranger
        assert "$6,000 at Dell" not in text_of(logged_in(not_yet).get("/approvals/").content.decode())

    spending_services.approval_decide(actor=head, request_id=approval.id, approve=True, note="Needed for the new team")
    finance = text_of(logged_in(tenant.finance).get("/approvals/").content.decode())
    assert "$6,000 at Dell" in finance and "Step 2 of 2: finance manager" in finance
    assert "Step 1: approved by head@example.com — “Needed for the new team”" in finance
    assert "$6,000 at Dell" not in text_of(logged_in(head).get("/approvals/").content.decode())


@pytest.mark.django_db(transaction=True)  # settlement and decisions take the settlement lock
def test_decided_approvals_show_below_for_finance_and_for_those_who_signed(tenant, head):
    approval = waiting_spend(tenant)
    spending_services.approval_decide(actor=head, request_id=approval.id, approve=True)
    spending_services.approval_decide(actor=tenant.finance, request_id=approval.id, approve=True)

    for reader in (tenant.finance, tenant.admin, head):
        panels = logged_in(reader).get("/approvals/panels").content.decode()
        assert 'id="approvals-decided" data-swap' in panels and 'id="waiting-count" data-swap' in panels
        decided = text_of(panels.split('id="approvals-decided"')[1])
        assert "Dell" in decided and "$6,000" in decided and "Approved" in decided
        assert f"Step 2: approved by {tenant.finance.email}" in decided
    spender = text_of(logged_in(tenant.employee).get("/approvals/").content.decode())
    assert "No decided approvals to show yet." in spender


@pytest.mark.django_db(transaction=True)  # settlement takes the settlement lock
def test_a_held_spend_reads_awaiting_approval_and_its_hold_shows_on_the_budget_cards(tenant, head):
    waiting_spend(tenant)

    home = logged_in(tenant.employee).get("/").content.decode()
    assert '<span class="status status-awaiting_approval">Awaiting approval</span>' in home
    assert "$0 of $50,000 spent, $6,000 held for approval" in text_of(home)
    assert "Spent $0 Held $6,000 Available $44,000" in text_of(home)

    dashboard = text_of(logged_in(tenant.finance).get("/finance/").content.decode())
    assert "Engineering Within budget $0 of $50,000 spent, $6,000 held for approval" in dashboard
    assert "Awaiting approval" in dashboard


@pytest.mark.parametrize(
    ("spent_minor", "held_minor", "spent_bar", "held_bar"),
    [
        (0, 0, 0, 0),
        (1_000_000, 600_000, 20, 12),
        (4_500_000, 600_000, 90, 10),  # together past the limit: the bar stops at 100
        (5_000_000, 0, 100, 0),
    ],
)
def test_the_budget_bar_shows_spent_then_held(spent_minor, held_minor, spent_bar, held_bar):
    period = BudgetPeriod(
        department=Department(name="Engineering"),
        limit_minor=5_000_000,
        spent_minor=spent_minor,
        held_minor=held_minor,
    )
    card = budget_card(period, "USD")
    assert (card["spent_bar"], card["held_bar"], card["held"]) == (spent_bar, held_bar, held_minor)
