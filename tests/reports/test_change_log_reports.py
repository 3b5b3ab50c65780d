"""The changes report and the access review read the database's change log (AuditChange): a change
made by any path shows with its actor, once.

The change log is dated by PostgreSQL's clock, which time_machine does not move: these tests make
their changes today, report on today, and move only Python's clock past the period's end when the
period must have ended.

transaction=True: the audit context is transaction-local, and a raw SQL write after a request must
not be read in the request's transaction.
"""

import zoneinfo
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.approvals.models import ApprovalPolicy
from apps.audit.models import AuditEvent
from apps.budgets.models import BudgetPeriod
from apps.reports import selectors, services
from apps.reports.periods import period_parse
from apps.tenancy.models import Role, User
from apps.tenancy.services import user_freeze
from tests.factories import login_verified
from tests.spends import period_now

from .test_reports import as_dicts

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = {"name": "Big spends", "min_amount": "5000.00", "levels": ["department_head", "finance_manager"]}


def today(tenant):
    day = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.organization.timezone)).isoformat()
    return period_parse(organization=tenant.organization, start=day, end=day)


def changes(tenant) -> list[dict]:
    return as_dicts(selectors.limit_and_policy_changes(organization=tenant.organization, period=today(tenant)))


def admin_client(user) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.9")
    login_verified(client, user)
    return client


def test_an_approval_policy_made_through_the_api_and_deleted_in_the_admin_shows_each_actor(tenant, api):
    created = api(tenant.admin).post("/api/v1/approval-policies", POLICY, format="json")
    assert created.status_code == 201, created.content
    policy_id = created.json()["id"]
    deleted = admin_client(tenant.admin).post(f"/admin/approvals/approvalpolicy/{policy_id}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not ApprovalPolicy.objects.filter(id=policy_id).exists()

    rows = [row for row in changes(tenant) if row["what"] == "Approval policy 'Big spends'"]
    made = {row["field"]: row for row in rows if row["change"] == "created"}
    gone = {row["field"]: row for row in rows if row["change"] == "deleted"}
    assert set(made) == set(gone) >= {"name", "min_amount_minor", "levels", "department_id", "spender_step"}
    assert (made["min_amount_minor"]["before"], made["min_amount_minor"]["after"]) == ("", "500000")
    assert made["levels"]["after"] == '["department_head","finance_manager"]'
    assert (gone["name"]["before"], gone["name"]["after"]) == ('"Big spends"', "")
    for row in rows:
        assert (row["who"], row["actor email"]) == (f"user:{tenant.admin.email}", tenant.admin.email)
    assert made["name"]["from where"].startswith("address 127.0.0.1; request POST /api/v1/approval-policies")
    assert gone["name"]["from where"].startswith("address 203.0.113.9; request POST /admin/approvals/")
    assert made["name"]["when"].endswith("+00:00")  # in the organization's timezone, UTC here


def test_a_budget_limit_set_by_raw_sql_shows_the_database_as_its_actor(tenant):
    period = period_now(tenant.department)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE budgets_budgetperiod SET limit_minor = 1234500 WHERE id = %s", [period.id])

    [row] = [row for row in changes(tenant) if row["what"].startswith("Budget ")]
    assert row["what"] == f"Budget 'Engineering' for {period.month:%Y-%m}"
    assert (row["change"], row["field"], row["before"], row["after"]) == (
        "changed",
        "limit_minor",
        "5000000",
        "1234500",
    )
    assert row["who"].startswith("database:") and row["actor email"] == ""
    assert row["audit event"] == ""


def test_a_change_with_a_semantic_event_is_one_row_naming_the_event(tenant):
    period = period_now(tenant.department)
    client = admin_client(tenant.finance)
    select = {"action": "set_limit", ACTION_CHECKBOX_NAME: [str(period.pk)]}
    request_id = client.post("/admin/budgets/budgetperiod/", select).context["form"]["request_id"].value()
    client.post(
        "/admin/budgets/budgetperiod/", {**select, "apply": "yes", "limit": "4000.00", "request_id": request_id}
    )

    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.BUDGET_LIMIT_SET)
    [row] = [row for row in changes(tenant) if row["what"].startswith("Budget ")]
    assert (row["who"], row["field"], row["after"]) == (f"user:{tenant.finance.email}", "limit_minor", "400000")
    assert row["audit event"] == f"Budget limit set #{event.id}"


def test_standing_limits_and_spend_rules_changed_through_the_api_are_listed_once_each(tenant, api):
    admin = api(tenant.admin)
    renamed = admin.patch(f"/api/v1/departments/{tenant.department.id}", {"name": "Research"}, format="json")
    assert renamed.status_code == 200, renamed.content
    limited = admin.patch(f"/api/v1/departments/{tenant.department.id}", {"monthly_limit": "700.00"}, format="json")
    assert limited.status_code == 200, limited.content

    rule = admin.post(
        "/api/v1/spend-policies/rules",
        {"name": "No gambling", "kind": "blocked_category", "category": "Gambling"},
        format="json",
    )
    assert rule.status_code == 201, rule.content

    rows = changes(tenant)
    changed = [(row["what"], row["field"], row["before"], row["after"]) for row in rows if row["change"] == "changed"]
    # The rename is no limit change; the month to come, opened ahead, follows the standing limit.
    next_month = BudgetPeriod.objects.get(department=tenant.department, month__gt=timezone.localdate())
    assert changed == [
        ("Department 'Research'", "monthly_limit_minor", "5000000", "70000"),
        (f"Budget 'Research' for {next_month.month:%Y-%m}", "limit_minor", "5000000", "70000"),
    ]
    limit_event = AuditEvent.objects.filter(action=AuditEvent.Action.DEPARTMENT_UPDATED).order_by("id").last()
    standing = next(row for row in rows if row["field"] == "monthly_limit_minor" and row["change"] == "changed")
    assert standing["audit event"] == f"Department updated #{limit_event.id}"
    rule_rows = [row for row in rows if row["what"] == "Spend rule 'No gambling'"]
    [rule_event] = AuditEvent.objects.filter(action=AuditEvent.Action.SPEND_RULE_CREATED)
    # One row per field of the rule, each naming the one event, and no row of the event's own.
    assert len({row["field"] for row in rule_rows}) == len(rule_rows) > 3
    assert {(row["change"], row["audit event"]) for row in rule_rows} == {
        ("created", f"Spend rule created #{rule_event.id}")
    }
    assert not [row for row in rows if "audit" in row["what"].lower()]


def test_the_access_review_names_who_granted_a_role_by_api_and_by_command(tenant, api):
    granted = api(tenant.admin).patch(
        f"/api/v1/users/{tenant.employee.id}", {"role": Role.FINANCE_MANAGER}, format="json"
    )
    assert granted.status_code == 200, granted.content
    call_command(
        "shell",
        command=(
            "from apps.tenancy.models import User; from apps.tenancy.services import user_set_role; "
            f"user_set_role(actor=User.objects.get(id='{tenant.admin.id}'), "
            f"user=User.objects.get(id='{tenant.other_employee.id}'), role='org_admin')"
        ),
    )

    rows = {
        row["email"]: row
        for row in as_dicts(selectors.access_review(organization=tenant.organization, period=today(tenant)))
    }
    by_api, by_command = rows[tenant.employee.email], rows[tenant.other_employee.email]
    assert (by_api["role"], by_api["role granted by"]) == ("Finance manager", f"user:{tenant.admin.email}")
    assert (by_command["role"], by_command["role granted by"]) == ("Org admin", "command:shell")
    # The factory wrote the admin's row below any service: the database role is the granter.
    assert rows[tenant.admin.email]["role granted by"].startswith("database:")
    assert by_api["role granted at"].startswith(timezone.localdate().isoformat())


def test_the_access_review_reads_role_and_freeze_as_of_the_period_end(tenant, api):
    yesterday = timezone.localdate() - timedelta(days=1)
    User.objects.filter(id=tenant.employee.id).update(date_joined=timezone.now() - timedelta(days=2))
    promoted = api(tenant.admin).patch(f"/api/v1/users/{tenant.employee.id}", {"role": "org_admin"}, format="json")
    assert promoted.status_code == 200, promoted.content
    user_freeze(actor=tenant.admin, user=tenant.employee, reason="Card reported stolen.")

    def employee_row(period) -> dict:
        rows = as_dicts(selectors.access_review(organization=tenant.organization, period=period))
        return next(row for row in rows if row["email"] == tenant.employee.email)

    # Both changes were made today: yesterday the user was an employee, active, whose row (made
    # today by the factory) records no grant before then.
    then = employee_row(period_parse(organization=tenant.organization, start=str(yesterday), end=str(yesterday)))
    assert (then["role"], then["status"], then["role granted by"], then["role granted at"]) == (
        "Employee",
        "active",
        "not recorded",
        "",
    )
    now = employee_row(today(tenant))
    assert (now["role"], now["status"], now["role granted by"]) == ("Org admin", "frozen", f"user:{tenant.admin.email}")


@pytest.mark.parametrize("kind", ["limit-and-policy-changes", "access-review"])
@pytest.mark.parametrize("file_format", ["csv", "pdf"])
def test_reports_from_the_change_log_regenerate_byte_for_byte(tenant, api, kind, file_format):
    assert api(tenant.admin).post("/api/v1/approval-policies", POLICY, format="json").status_code == 201
    assert (
        api(tenant.admin).patch(f"/api/v1/users/{tenant.employee.id}", {"role": "org_admin"}, format="json").status_code
        == 200
    )
    period = today(tenant)

    def generate(actor):
        return services.report_generate(
            actor=actor, organization=tenant.organization, kind=kind, period=period, file_format=file_format
        )

    with time_machine.travel(period.ends_at + timedelta(hours=1), tick=True):
        first = generate(tenant.finance)
        again = generate(tenant.admin)
    assert len(first.report.rows) > 1
    assert first.content == again.content and not again.run.data_changed


def test_the_changes_report_asks_the_same_number_of_queries_however_many_changes(tenant, api):
    admin = api(tenant.admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            changes(tenant)
        return len(captured)

    assert admin.post("/api/v1/approval-policies", POLICY, format="json").status_code == 201
    one = queries()
    for number in range(5):
        made = admin.post("/api/v1/approval-policies", {**POLICY, "name": f"Policy {number}"}, format="json")
        assert made.status_code == 201
    assert queries() == one
