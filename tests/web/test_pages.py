"""The pages through Django's test client: who may open what, and what each shows."""

import re

import pytest
from django.test import Client

from apps.budgets.models import BudgetPeriod
from apps.tenancy.models import Department, Role
from apps.web.templatetags.web_tags import budget_card
from tests.factories import PASSWORD, login_verified
from tests.spends import spend_submit


def logged_in(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def text_of(html: str) -> str:
    """What a person reads: tags dropped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def nav_titles(response) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', response.content.decode(), re.S).group(1)
    return re.findall(r">([^<>]+)</a>", nav)


@pytest.mark.django_db
def test_login_page_labels_every_field(client):
    page = client.get("/login/").content.decode()
    assert '<label for="login-email">Email</label>' in page
    assert '<label for="login-password">Password</label>' in page


@pytest.mark.django_db
def test_login_with_any_case_email_then_logout(client, tenant):
    response = client.post("/login/", {"username": tenant.employee.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200

    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/")["Location"] == "/login/?next=/"


@pytest.mark.django_db
def test_a_wrong_password_says_so_without_saying_which_part(client, tenant):
    response = client.post("/login/", {"username": tenant.employee.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/panels/home",
        "/finance/",
        "/finance/panels",
        "/approvals/",
        "/approvals/panels",
        "/system/",
        "/system/panels",
    ],
)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.django_db
def test_the_layout_shows_organization_user_role_and_only_the_roles_pages(tenant, system_admin):
    page = logged_in(tenant.employee).get("/")
    text = page.content.decode()
    assert tenant.organization.name in text and tenant.employee.email in text and "Employee" in text
    assert nav_titles(page) == ["My spend", "Approvals"]

    finance = logged_in(tenant.finance).get("/finance/")
    assert nav_titles(finance) == ["Finance dashboard", "Approvals", "Vendor payments", "Back office"]
    assert nav_titles(logged_in(tenant.admin).get("/finance/")) == [
        "Finance dashboard",
        "Approvals",
        "Vendor payments",
        "Back office",
    ]
    system = logged_in(system_admin).get("/system/")
    assert nav_titles(system) == ["System internals", "Back office"]
    assert "LedgerX platform" in system.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "landing"),
    [(Role.FINANCE_MANAGER, "/finance/"), (Role.ORG_ADMIN, "/finance/")],
)
def test_home_sends_staff_to_their_page(tenant, role, landing):
    assert logged_in(tenant.user(role)).get("/")["Location"] == landing


@pytest.mark.django_db
def test_home_sends_the_system_admin_to_the_internals(system_admin):
    assert logged_in(system_admin).get("/")["Location"] == "/system/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.EMPLOYEE, "/finance/"),
        (Role.EMPLOYEE, "/finance/panels"),
        (Role.EMPLOYEE, "/system/"),
        (Role.EMPLOYEE, "/system/panels"),
        (Role.FINANCE_MANAGER, "/system/"),
        (Role.FINANCE_MANAGER, "/panels/home"),
        (Role.ORG_ADMIN, "/system/panels"),
    ],
)
def test_pages_of_other_roles_answer_403_with_a_page_that_says_why(tenant, role, path):
    response = logged_in(tenant.user(role)).get(path)
    assert response.status_code == 403
    assert "This page is not for your role" in response.content.decode()


@pytest.mark.django_db
def test_the_system_admin_has_no_finance_dashboard(system_admin):
    assert logged_in(system_admin).get("/finance/").status_code == 403


@pytest.mark.django_db
def test_employee_home_shows_the_budget_the_form_and_only_their_own_spend(tenant):
    spend_submit(user=tenant.employee, amount="12.00", merchant="Own Coffee")
    spend_submit(user=tenant.other_employee, amount="13.00", merchant="Colleague Lunch")

    page = logged_in(tenant.employee).get("/").content.decode()

    assert "$0 of $50,000 spent" in text_of(page)
    assert 'id="spend-form"' in page and 'data-api="/api/v1/transactions"' in page
    for field in ("amount", "merchant", "category", "description"):
        assert f'<label for="spend-{field}">' in page
    assert "Own Coffee" in page and "Colleague Lunch" not in page


@pytest.mark.django_db
def test_employee_panels_are_the_refreshable_parts_of_the_page(tenant):
    spend_submit(user=tenant.employee, amount="12.00", merchant="Own Coffee")
    fragment = logged_in(tenant.employee).get("/panels/home").content.decode()
    assert 'id="budget-panel" data-swap' in fragment and 'id="own-transactions" data-swap' in fragment
    assert "Own Coffee" in fragment and "<html" not in fragment


@pytest.mark.django_db
def test_finance_dashboard_shows_the_organizations_budgets_and_spend_only(tenant, other_tenant):
    spend_submit(user=tenant.employee, amount="12.00", merchant="Acme Paper")
    spend_submit(user=other_tenant.employee, amount="13.00", merchant="Globex Rockets")

    page = logged_in(tenant.finance).get("/finance/").content.decode()

    assert "Engineering Within budget $0 of $50,000 spent" in text_of(page)
    assert "Acme Paper" in page and "Globex Rockets" not in page
    assert 'id="finance-chart-data"' in page and 'data-api="/api/v1/fraud/alerts?status=open"' in page
    assert '<label for="nlq-question">' in page
    other = logged_in(other_tenant.finance).get("/finance/panels").content.decode()
    assert "Globex Rockets" in other and "Acme Paper" not in other


@pytest.mark.django_db
def test_system_internals_show_queues_latency_health_and_workers(system_admin):
    page = logged_in(system_admin).get("/system/").content.decode()
    for heading in ("Queues", "Settlement latency", "Throughput per minute", "PostgreSQL", "Redis", "Workers"):
        assert f">{heading}</h2>" in page
    assert "settlement" in page and "fraud" in page


@pytest.mark.parametrize(
    ("spent_minor", "level", "bar"),
    [
        (0, "ok", 0),
        (3_999_999, "ok", 79),
        (4_000_000, "warning", 80),
        (5_000_000, "over", 100),
        (6_000_000, "over", 100),
    ],
)
def test_the_budget_bar_turns_amber_at_80_and_red_at_100_percent(spent_minor, level, bar):
    period = BudgetPeriod(department=Department(name="Engineering"), limit_minor=5_000_000, spent_minor=spent_minor)
    card = budget_card(period, "USD")
    assert (card["level"], card["bar_percent"]) == (level, bar)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "path"), [("finance", "/finance/"), ("employee", "/")])
def test_the_question_box_is_on_the_finance_and_the_employee_page(tenant, role, path):
    page = logged_in(getattr(tenant, role)).get(path, follow=True).content.decode()
    assert '<label for="nlq-question">Question in plain language</label>' in page
    assert 'data-api="/api/v1/query" data-currency="USD"' in page
    assert "web/question.js" in page and "vendor/chart.js/chart.umd.min.js" in page


@pytest.mark.django_db
def test_every_page_links_the_favicon(client):
    page = client.get("/login/").content.decode()
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="[^"]*web/favicon\.svg">', page)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith("web/favicon.svg")
