"""The back-office audit log: what the services record, the API that shows it, and that it is append-only."""

import inspect

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.chain import audit_seal_all
from apps.audit.models import PLATFORM_CHAIN, AuditChange, AuditEvent
from apps.audit.services import audit_record
from apps.audit.verification import audit_verify
from apps.budgets import department_moves
from apps.budgets import services as budget_services
from apps.tenancy import freezes
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from ledgerx.errors import Conflict
from tests.factories import PASSWORD, UserFactory, login_verified
from tests.owner import owner_cursor
from tests.spends import spend_settled


def _events(organization, action):
    return list(AuditEvent.objects.of(organization).filter(action=action).order_by("id"))


# Recording, through the real endpoints and services


@pytest.mark.parametrize(
    "writer",
    [
        budget_services.budget_period_set_limit,
        department_moves.department_change,
        tenancy_services.department_create,
        tenancy_services.department_update,
        tenancy_services.department_set_standing_limit,
        tenancy_services.department_set_head,
        tenancy_services.user_create,
        tenancy_services.user_set_role,
        freezes.user_freeze,
        freezes.user_unfreeze,
    ],
)
def test_audited_writers_take_the_actor_without_a_default(writer):
    """A caller that forgets the actor fails at once instead of recording the platform (the admin's bug)."""
    actor = inspect.signature(writer).parameters["actor"]
    assert actor.kind is inspect.Parameter.KEYWORD_ONLY
    assert actor.default is inspect.Parameter.empty


@pytest.mark.django_db(transaction=True)  # the budget lock is taken outside any transaction
def test_budget_limit_change_is_recorded_with_before_and_after(tenant, api):
    response = api(tenant.finance).put(
        f"/api/v1/departments/{tenant.department.id}/budget", {"limit": "700.00", "period": "2026-11"}, format="json"
    )
    assert response.status_code == 200, response.content

    [event] = _events(tenant.organization, AuditEvent.Action.BUDGET_LIMIT_SET)
    assert event.actor == tenant.finance
    assert event.actor_email == tenant.finance.email
    assert event.target_type == "budgets.budgetperiod"
    assert event.before == {"department": str(tenant.department.id), "period": "2026-11", "limit_minor": 5_000_000}
    assert event.after == {"department": str(tenant.department.id), "period": "2026-11", "limit_minor": 70_000}


@pytest.mark.django_db(transaction=True)  # settlement and reversal take the advisory lock outside a transaction
def test_reversal_is_recorded_once_even_when_replayed(tenant, api):
    spend = spend_settled(tenant.employee, "25.00")
    client = api(tenant.finance)
    for _ in range(2):
        response = client.post(
            f"/api/v1/transactions/{spend.id}/reverse",
            {"reason": "Duplicate charge"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="reverse-1",
        )
        assert response.status_code == 201, response.content

    [event] = _events(tenant.organization, AuditEvent.Action.TRANSACTION_REVERSED)
    assert event.actor == tenant.finance
    assert (event.target_type, event.target_id) == ("ledger.transaction", str(spend.id))
    assert event.before == {"status": "posted"}
    assert event.after == {"status": "reversed", "reversal": response.json()["id"], "reason": "Duplicate charge"}


@pytest.mark.django_db
def test_user_creation_and_role_change_are_recorded(tenant, api):
    client = api(tenant.admin)
    created = client.post(
        "/api/v1/users",
        {"email": "new@example.com", "password": PASSWORD, "role": "employee", "department": str(tenant.department.id)},
        format="json",
    )
    assert created.status_code == 201, created.content
    changed = client.patch(f"/api/v1/users/{created.json()['id']}", {"role": "finance_manager"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["role"] == "finance_manager"

    [creation] = _events(tenant.organization, AuditEvent.Action.USER_CREATED)
    assert creation.actor == tenant.admin
    assert creation.after == {"email": "new@example.com", "role": "employee", "department": str(tenant.department.id)}
    [role_change] = _events(tenant.organization, AuditEvent.Action.USER_ROLE_CHANGED)
    assert role_change.target_id == created.json()["id"]
    assert (role_change.before["role"], role_change.after["role"]) == ("employee", "finance_manager")


@pytest.mark.django_db
def test_department_create_update_and_head_are_recorded(tenant, api):
    client = api(tenant.admin)
    created = client.post("/api/v1/departments", {"name": "Sales", "monthly_limit": "1000.00"}, format="json")
    assert created.status_code == 201, created.content
    department_id = created.json()["id"]
    renamed = client.patch(f"/api/v1/departments/{department_id}", {"name": "Field Sales"}, format="json")
    assert renamed.status_code == 200
    unchanged = client.patch(f"/api/v1/departments/{department_id}", {"name": "Field Sales"}, format="json")
    assert unchanged.status_code == 200
    department = tenant.organization.departments.get(id=department_id)
    tenancy_services.department_set_head(department=department, head=tenant.finance, actor=tenant.admin)

    [creation] = [
        e for e in _events(tenant.organization, AuditEvent.Action.DEPARTMENT_CREATED) if e.target_id == department_id
    ]
    assert creation.actor == tenant.admin
    assert creation.after == {"name": "Sales", "parent": None, "head": None, "monthly_limit_minor": 100_000}
    [update] = _events(tenant.organization, AuditEvent.Action.DEPARTMENT_UPDATED)  # the no-op rename adds nothing
    assert (update.before["name"], update.after["name"]) == ("Sales", "Field Sales")
    [head] = _events(tenant.organization, AuditEvent.Action.DEPARTMENT_HEAD_SET)
    assert (head.before["head"], head.after["head"]) == (None, str(tenant.finance.id))


@pytest.mark.django_db
def test_platform_actions_without_a_person_record_no_actor(tenant):
    [event] = _events(tenant.organization, AuditEvent.Action.DEPARTMENT_CREATED)  # the fixture's department
    assert event.actor is None
    assert event.actor_email == ""


@pytest.mark.django_db
def test_audit_record_refuses_unknown_actions(tenant):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=tenant.admin, action="user.teleported", target=tenant.employee)


@pytest.mark.django_db(transaction=True)  # outside any transaction: the record must commit with its change
def test_audit_record_refuses_to_run_outside_the_changes_transaction(tenant):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=tenant.admin, action=AuditEvent.Action.USER_CREATED, target=tenant.employee)


# Append-only, in the database


@pytest.mark.django_db(transaction=True)  # the owner's connection sees only committed events
def test_the_database_refuses_to_change_or_erase_events(tenant):
    event = AuditEvent.objects.of(tenant.organization).first()
    # The application role may only append; the owner, who may do more, meets the triggers.
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AuditEvent.objects.filter(id=event.id).update(action=AuditEvent.Action.USER_CREATED)
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        AuditEvent.objects.filter(id=event.id).delete()
    for statement in ("UPDATE audit_auditevent SET action = 'user.created'", "DELETE FROM audit_auditevent"):
        with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(id=event.id, action=event.action).exists()


@pytest.mark.django_db(transaction=True)  # TRUNCATE needs no pending deferred checks in the same transaction
def test_the_database_refuses_to_truncate_the_log(tenant):
    with pytest.raises(DatabaseError, match="permission denied"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.of(tenant.organization).exists()


# GET /api/v1/audit/events


@pytest.mark.django_db(transaction=True)  # the budget lock is taken outside any transaction
def test_org_admin_reads_own_events_newest_first_with_a_cursor(tenant, other_tenant, api):
    client = api(tenant.admin)
    for limit in ("100.00", "200.00", "300.00"):
        client.put(f"/api/v1/departments/{tenant.department.id}/budget", {"limit": limit}, format="json")

    first = client.get("/api/v1/audit/events?action=budget.limit_set&limit=2")
    assert first.status_code == 200
    page = first.json()
    assert [e["after"]["limit_minor"] for e in page["results"]] == [30_000, 20_000]
    assert page["results"][0]["actor"] == {"id": str(tenant.admin.id), "email": tenant.admin.email}
    assert page["results"][0]["target"]["type"] == "budgets.budgetperiod"
    second = client.get(page["next"]).json()
    assert [e["after"]["limit_minor"] for e in second["results"]] == [10_000]
    assert second["next"] is None

    everything = client.get("/api/v1/audit/events?limit=200").json()["results"]
    other_ids = {str(other_tenant.department.id), str(other_tenant.organization.id)}
    assert not any(e["target"]["id"] in other_ids for e in everything)
    assert {e["target"]["id"] for e in everything} >= {str(tenant.department.id)}


@pytest.mark.django_db
def test_events_filter_by_target(tenant, api):
    api(tenant.admin).patch(f"/api/v1/departments/{tenant.department.id}", {"name": "R&D"}, format="json")
    body = api(tenant.admin).get(f"/api/v1/audit/events?target={tenant.department.id}").json()
    assert [e["action"] for e in body["results"]] == ["department.updated", "department.created"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER])
def test_only_org_admins_read_the_audit_log(tenant, api, role):
    response = api(tenant.user(role)).get("/api/v1/audit/events")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.django_db
def test_system_admin_and_anonymous_cannot_read_a_tenants_log(system_admin, api):
    assert api(system_admin).get("/api/v1/audit/events").status_code == 403
    assert api(None).get("/api/v1/audit/events").status_code == 401


@pytest.mark.django_db
def test_bad_filter_is_a_400_in_the_error_shape(tenant, api):
    response = api(tenant.admin).get("/api/v1/audit/events?action=nonsense")
    assert response.status_code == 400
    assert "action" in response.json()["error"]["fields"]


# PATCH /api/v1/users/{id}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER])
def test_only_org_admins_change_roles(tenant, api, role):
    response = api(tenant.user(role)).patch(f"/api/v1/users/{tenant.employee.id}", {"role": "org_admin"}, format="json")
    assert response.status_code == 403
    tenant.employee.refresh_from_db()
    assert tenant.employee.role == Role.EMPLOYEE


@pytest.mark.django_db
def test_another_tenants_user_is_a_404(tenant, other_tenant, api):
    response = api(tenant.admin).patch(
        f"/api/v1/users/{other_tenant.employee.id}", {"role": "org_admin"}, format="json"
    )
    assert response.status_code == 404
    assert api(tenant.admin).get(f"/api/v1/users/{other_tenant.employee.id}").status_code == 404


@pytest.mark.django_db
def test_role_change_refusals(tenant, api):
    client = api(tenant.admin)
    bad = client.patch(f"/api/v1/users/{tenant.employee.id}", {"role": "emperor"}, format="json")
    assert bad.status_code == 400
    assert "role" in bad.json()["error"]["fields"]
    promote = client.patch(f"/api/v1/users/{tenant.employee.id}", {"role": "system_admin"}, format="json")
    assert promote.status_code == 403
    last_admin = client.patch(f"/api/v1/users/{tenant.admin.id}", {"role": "finance_manager"}, format="json")
    assert last_admin.status_code == 409
    no_department = client.patch(f"/api/v1/users/{tenant.finance.id}", {"role": "employee"}, format="json")
    assert no_department.status_code == 400
    assert not _events(tenant.organization, AuditEvent.Action.USER_ROLE_CHANGED)


@pytest.mark.django_db
def test_an_admin_may_step_down_once_another_admin_exists(tenant, api):
    second_admin = UserFactory(role=Role.ORG_ADMIN, organization=tenant.organization)
    response = api(tenant.admin).patch(f"/api/v1/users/{tenant.admin.id}", {"role": "finance_manager"}, format="json")
    assert response.status_code == 200
    assert api(second_admin).get(f"/api/v1/users/{tenant.admin.id}").json()["role"] == "finance_manager"


# The Django admin shows the log read-only


@pytest.mark.django_db
def test_django_admin_lists_events_but_cannot_add_change_or_delete(tenant, system_admin, client):
    login_verified(client, system_admin)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    event = AuditEvent.objects.of(tenant.organization).first()
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.id}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(id=event.id).exists()


@pytest.mark.django_db
def test_a_platform_event_carries_the_platforms_organization_id_and_is_listed_as_the_platforms(
    tenant, system_admin, client
):
    root = tenancy_services.user_create(
        actor=system_admin, email="root2@example.com", password=PASSWORD, role=Role.SYSTEM_ADMIN, organization=None
    )

    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_CREATED, target_id=str(root.id))
    assert event.organization_id == PLATFORM_CHAIN
    capture = AuditChange.objects.get(table_name="audit_auditevent", operation="INSERT", row_id=str(event.id))
    assert (capture.organization_id, capture.after["organization_id"]) == (PLATFORM_CHAIN, str(PLATFORM_CHAIN))
    assert not AuditEvent.objects.of(tenant.organization).filter(id=event.id).exists()
    audit_seal_all()
    report = audit_verify()
    assert report["ok"], report["problems"]

    login_verified(client, system_admin)
    listed = client.get("/admin/audit/auditevent/")
    assert listed.status_code == 200
    assert event.id in {row.id for row in listed.context["cl"].result_list}
    assert listed.context["cl"].model_admin.organization(event) == "platform"
    assert client.get(f"/admin/audit/auditevent/{event.id}/change/").status_code == 200
    platform = client.get("/admin/audit/auditevent/", {"organization": str(PLATFORM_CHAIN)})
    assert {row.organization_id for row in platform.context["cl"].result_list} == {PLATFORM_CHAIN}
    of_tenant = client.get("/admin/audit/auditevent/", {"organization": str(tenant.organization.id)})
    assert {row.organization_slug for row in of_tenant.context["cl"].result_list} == {tenant.organization.slug}


@pytest.mark.django_db(transaction=True)  # two real connections race; each needs the other's commit
def test_two_admins_demoting_each_other_at_once_leave_one_admin(tenant):
    from tests.conftest import run_in_threads

    admins = [tenant.admin, UserFactory(role=Role.ORG_ADMIN, organization=tenant.organization)]

    def demote_the_other(index):
        try:
            tenancy_services.user_set_role(actor=admins[index], user=admins[1 - index], role=Role.FINANCE_MANAGER)
        except Conflict:
            return "refused"
        return "demoted"

    outcomes = run_in_threads(2, demote_the_other)

    assert sorted(outcomes) == ["demoted", "refused"]
    assert tenant.organization.users.filter(role=Role.ORG_ADMIN).count() == 1
    assert len(_events(tenant.organization, AuditEvent.Action.USER_ROLE_CHANGED)) == 1
