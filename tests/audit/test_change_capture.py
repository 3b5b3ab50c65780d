"""The change log: every writer's changes to audited tables are captured by the database's triggers,
with who made them, from where, and the values before and after.

transaction=True throughout: limit changes and reversals take the settlement lock outside any
transaction, and the owner's connection sees only committed rows.
"""

import psycopg
import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from apps.audit.chain import audit_seal_all
from apps.audit.models import PLATFORM_CHAIN, AuditChange, AuditEvent
from apps.budgets.models import BudgetPeriod
from apps.budgets.tasks import rollover_budgets
from apps.tenancy.models import Department, User
from ledgerx.audit_context import AuditActor, audit_context
from tests.factories import DepartmentFactory, login_verified
from tests.owner import owner_cursor
from tests.spends import period_now, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)


def _changes(table: str, row_id, operation: str = "UPDATE") -> list[AuditChange]:
    return list(AuditChange.objects.filter(table_name=table, row_id=str(row_id), operation=operation).order_by("id"))


def test_an_admin_action_is_recorded_as_its_user_with_address_agent_and_values(tenant):
    period = period_now(tenant.department)
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140")
    login_verified(client, tenant.finance)
    select = {"action": "set_limit", ACTION_CHECKBOX_NAME: [str(period.pk)]}
    request_id = client.post("/admin/budgets/budgetperiod/", select).context["form"]["request_id"].value()

    client.post(
        "/admin/budgets/budgetperiod/", {**select, "apply": "yes", "limit": "5000.00", "request_id": request_id}
    )

    [change] = _changes("budgets_budgetperiod", period.pk)
    assert change.actor == f"user:{tenant.finance.email}"
    assert change.actor_user_id == tenant.finance.id
    assert change.organization_id == tenant.organization.id
    assert change.origin == {
        "address": "203.0.113.7",
        "user_agent": "Firefox/140",
        "request": "POST /admin/budgets/budgetperiod/",
    }
    assert (change.before["limit_minor"], change.after["limit_minor"]) == (5_000_000, 500_000)
    assert "spent_minor" not in change.after  # only what changed
    assert len(change.context_id) == 32


def test_a_token_authenticated_api_change_is_recorded_as_the_tokens_user(tenant, api):
    response = api(tenant.admin).patch(
        f"/api/v1/departments/{tenant.department.id}",
        {"name": "Research"},
        format="json",
        HTTP_USER_AGENT="ledgerx-cli/1.0",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert response.status_code == 200, response.content

    [change] = _changes("tenancy_department", tenant.department.id)
    assert (change.actor, change.actor_user_id) == (f"user:{tenant.admin.email}", tenant.admin.id)
    assert (change.before, change.after) == ({"name": "Engineering"}, {"name": "Research"})
    assert change.origin["user_agent"] == "ledgerx-cli/1.0"
    assert change.origin["request"] == f"PATCH /api/v1/departments/{tenant.department.id}"
    assert change.context_id == "req-42"
    # The service's semantic event is in the change log too, by the same actor in the same request.
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.DEPARTMENT_UPDATED)
    [captured] = _changes("audit_auditevent", event.id, "INSERT")
    assert (captured.actor, captured.context_id) == (change.actor, "req-42")
    assert captured.after["action"] == "department.updated"


def test_a_command_run_as_a_user_is_recorded_as_the_command_and_that_user(tenant):
    spend = spend_settled(tenant.employee, "120.00")

    call_command("reverse_transaction", str(spend.id), "--reason", "duplicate", "--as", tenant.finance.email)

    # Settlement's decision (pending to posted) is the spend's own record and the ledger's; the reversal is captured.
    [change] = _changes("ledger_transaction", spend.id)
    assert change.actor == f"command:reverse_transaction --as {tenant.finance.email}"
    assert change.actor_user_id == tenant.finance.id
    assert (change.before["status"], change.after["status"]) == ("posted", "reversed")
    assert change.origin.keys() == {"host", "pid"}


def test_a_celery_task_is_recorded_as_the_task_with_its_id(tenant):
    department = DepartmentFactory(organization=tenant.organization, name="Legal", monthly_limit_minor=90_000)
    BudgetPeriod.objects.filter(department=department).delete()  # opened with the department: the task reopens

    result = rollover_budgets.apply()

    opened = list(BudgetPeriod.objects.filter(department=department))
    assert result.get() >= 1 and opened
    for period in opened:
        [change] = _changes("budgets_budgetperiod", period.pk, "INSERT")
        assert change.actor == "task:apps.budgets.tasks.rollover_budgets"
        assert change.actor_user_id is None
        assert change.context_id == result.id
        assert change.after["limit_minor"] == 90_000 and change.before is None


def test_a_raw_sql_change_without_context_is_the_database_roles_and_secrets_show_only_as_changed(tenant):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tenancy_user SET password = 'x', session_generation = 7 WHERE id = %s", [tenant.admin.id]
        )

    [change] = _changes("tenancy_user", tenant.admin.id)
    assert change.actor.startswith(f"database:{settings.DATABASES['default']['USER']}/")
    assert change.actor_user_id is None and change.context_id == ""
    assert change.before == {"password": "[secret]", "session_generation": 0}
    assert change.after == {"password": "[secret]", "session_generation": 7}


def test_one_statement_over_many_rows_records_each_row_and_bookkeeping_alone_records_nothing(tenant):
    others = [DepartmentFactory(organization=tenant.organization, name=f"D{index}") for index in range(3)]
    ids = [department.id for department in others]
    before = AuditChange.objects.count()

    with audit_context(AuditActor(label="task:test")):
        Department.objects.filter(id__in=ids).update(monthly_limit_minor=123)
        BudgetPeriod.objects.filter(department=tenant.department).update(spent_minor=5, held_minor=6)

    changes = list(AuditChange.objects.filter(id__gt=AuditChange.objects.order_by("id")[before - 1].id))
    assert sorted(change.row_id for change in changes) == sorted(str(i) for i in ids)
    assert {change.actor for change in changes} == {"task:test"}
    assert {change.after["monthly_limit_minor"] for change in changes} == {123}


def test_a_platform_change_goes_to_the_platform_chain(system_admin):
    [change] = _changes("tenancy_user", system_admin.id, "INSERT")
    assert change.organization_id == PLATFORM_CHAIN
    assert change.after["email"] == system_admin.email and change.after["password"] == "[secret]"


def test_the_context_does_not_outlive_its_request_on_the_reused_connection(tenant, api):
    api(tenant.admin).patch(f"/api/v1/departments/{tenant.department.id}", {"name": "One"}, format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('ledgerx.audit_context', true)")
        assert cursor.fetchone()[0] in (None, "")
        cursor.execute("UPDATE tenancy_department SET name = 'Two' WHERE id = %s", [tenant.department.id])
    limit = api(tenant.finance).put(
        f"/api/v1/departments/{tenant.department.id}/budget", {"limit": "700.00"}, format="json"
    )
    assert limit.status_code == 200, limit.content

    first, raw = _changes("tenancy_department", tenant.department.id)
    assert first.actor == f"user:{tenant.admin.email}"
    assert raw.actor.startswith("database:") and raw.context_id == ""
    [limited] = _changes("budgets_budgetperiod", period_now(tenant.department).pk)
    assert limited.actor == f"user:{tenant.finance.email}" and limited.context_id != first.context_id


def test_the_database_refuses_to_change_or_erase_the_change_log(tenant):
    audit_seal_all()  # a seal and a checkpoint to refuse to change
    change = AuditChange.objects.filter(organization_id=tenant.organization.id).first()
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AuditChange.objects.filter(id=change.id).update(actor="someone else")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditchange WHERE id = %s", [change.id])
    for table in ("audit_auditchange", "audit_auditchangeseal", "audit_auditcheckpoint"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
            with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
                cursor.execute(statement)
    assert AuditChange.objects.filter(id=change.id, actor=change.actor).exists()


def test_every_user_row_written_through_the_orm_is_captured(tenant):
    user = User.objects.create_user(email="new@example.com", password="pw-123456789", organization=tenant.organization)
    [change] = _changes("tenancy_user", user.id, "INSERT")
    assert change.after["role"] == user.role and change.after["password"] == "[secret]"


def test_a_console_change_is_recorded_as_the_shell_command(tenant):
    call_command(
        "shell",
        command="from apps.tenancy.models import Department; "
        f"Department.objects.filter(id='{tenant.department.id}').update(name='Ops')",
    )

    [change] = _changes("tenancy_department", tenant.department.id)
    assert (change.actor, change.after) == ("command:shell", {"name": "Ops"})


def test_a_decided_spend_changed_by_raw_sql_is_captured(tenant):
    decided = spend_settled(tenant.employee, "30.00")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_transaction SET merchant = 'Elsewhere' WHERE id = %s", [decided.id])

    [change] = _changes("ledger_transaction", decided.id)
    assert (change.before, change.after) == ({"merchant": "Dell"}, {"merchant": "Elsewhere"})
    assert change.actor.startswith("database:")
