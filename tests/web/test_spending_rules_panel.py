"""The employee page's "Your spending rules": the rules in force that apply to the employee, with the
limits left today and this month, and a refused spend's rule beside it.

Settlement takes an advisory lock outside any transaction, so these tests commit for real.
"""

import re

import pytest
from django.test import Client

from apps.approvals import services as approval_services
from apps.tenancy.models import Role
from tests.controls.conftest import rule
from tests.factories import DepartmentFactory, login_verified
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def panel_text(user) -> str:
    client = Client()
    login_verified(client, user)
    html = client.get("/panels/home").content.decode()
    panel = re.search(r'<section class="panel" id="spending-rules" data-swap.*?</section>', html, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", "", panel).split()).replace("&#x27;", "'")


def test_the_panel_says_so_when_no_rule_applies(tenant):
    assert "No spending rule applies to you beyond your department's budget." in panel_text(tenant.employee)


def test_the_panel_shows_the_rules_that_apply_and_what_their_limits_leave(tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    rule(tenant, "blocked_category", "No gambling", category="gambling")
    rule(tenant, "employee_limit", "Daily", amount_minor=100_000, period="day")
    rule(tenant, "employee_limit", "Monthly", amount_minor=500_000, period="month")
    rule(tenant, "employee_limit", "Finance only", amount_minor=1_000, period="spend", role=Role.FINANCE_MANAGER)
    rule(
        tenant,
        "employee_limit",
        "Colleague only",
        amount_minor=1_000,
        period="spend",
        employee_id=tenant.other_employee.id,
    )
    rule(
        tenant,
        "category_limit",
        "Engineering travel",
        category="travel",
        amount_minor=300_000,
        department_id=tenant.department.id,
    )
    rule(tenant, "category_limit", "Sales travel", category="travel", amount_minor=1_000, department_id=sales.id)
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=50_000, levels=["finance_manager"]
    )
    spend_submit(tenant.employee, "600.00", category="travel")  # held for approval: counts as used
    spend_submit(tenant.employee, "150.00", category="meals")
    spend_submit(tenant.other_employee, "10.00", category="travel")  # counts in the department
    settle_all(tenant.organization)

    text = panel_text(tenant.employee)

    assert "No gambling: The category 'gambling' is blocked." in text
    assert "Daily: At most $1,000 a day, for each employee. $250 left today ($750 of $1,000 used)." in text
    assert "Monthly: At most $5,000 a month, for each employee. $4,250 left this month ($750 of $5,000 used)." in text
    assert (
        "Engineering travel: At most $3,000 a month of 'travel' in Engineering and below. "
        "$2,390 left this month ($610 of $3,000 used)."
    ) in text
    assert "Finance only" not in text and "Colleague only" not in text and "Sales travel" not in text
    assert "Policy version 7." in text


def test_the_page_shows_what_a_limit_leaves_and_the_rule_that_refused_a_spend(tenant):
    rule(tenant, "employee_limit", "Daily", amount_minor=10_000, period="day")
    spend_submit(tenant.employee, "80.00")
    spend_submit(tenant.employee, "30.00", merchant="Too Much Coffee")
    settle_all(tenant.organization)
    assert "$20 left today ($80 of $100 used)" in panel_text(tenant.employee)
    client = Client()
    login_verified(client, tenant.employee)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get("/").content.decode()).split()).replace("&#x27;", "'")
    assert (
        "Too Much Coffee equipment $30 Rejected "
        "Policy 'Daily' (version 1): at most $100 a day, for each employee. Current: $80, Requested: $30"
    ) in page
