"""Departments in the back office: org admins add, rename, head and move them, finance managers set
standing limits, each through the services with the acting user, so audited; scoped to the organization."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.audit.models import AuditEvent
from apps.budgets.models import BudgetPeriod
from apps.tenancy.models import Department
from tests.factories import DepartmentFactory, signed_in_client
from tests.spends import period_now, spend_settled

DEPARTMENTS = "/admin/tenancy/department/"


def _form(**fields) -> dict:
    return {"name": "Platform", "parent": "", "monthly_limit": "20000.00", **fields}


def _change_form(department, **fields) -> dict:
    return {"name": department.name, "monthly_limit": "10000.00", "head": "", **fields}


@pytest.mark.django_db
def test_an_org_admin_adds_a_department_in_the_tree_with_its_budget(tenant):
    client = signed_in_client(tenant.admin)
    assert 'name="organization"' not in client.get(f"{DEPARTMENTS}add/").content.decode()

    response = client.post(f"{DEPARTMENTS}add/", _form(parent=tenant.department.id))

    assert response.status_code == 302
    platform = Department.objects.get(name="Platform")
    assert (platform.organization, platform.parent, platform.monthly_limit_minor) == (
        tenant.organization,
        tenant.department,
        2_000_000,
    )
    assert BudgetPeriod.objects.filter(department=platform).exists()  # the service's path opened its budget
    event = AuditEvent.objects.get(action="department.created", target_id=str(platform.id))
    assert event.actor == tenant.admin
    assert "Engineering / Platform" in client.get(DEPARTMENTS).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "Engineering"}, "already exists there"),
        ({"monthly_limit": "-5"}, "Amount must be a plain positive decimal"),
        ({"monthly_limit": "1.001"}, "USD amounts have at most 2 decimal places."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_a_department_ledgerx_would_not_make_is_refused_beside_its_field(tenant, fields, error):
    response = signed_in_client(tenant.admin).post(f"{DEPARTMENTS}add/", _form(**fields))
    assert response.status_code == 200 and error in response.content.decode()
    assert Department.objects.count() == 1
    assert not AuditEvent.objects.filter(action="department.created", actor=tenant.admin).exists()


@pytest.mark.django_db
def test_an_org_admin_renames_and_heads_a_department_audited(tenant):
    client = signed_in_client(tenant.admin)
    head = tenant.other_employee

    response = client.post(
        f"{DEPARTMENTS}{tenant.department.id}/change/",
        _change_form(tenant.department, name="R&D", monthly_limit="50000.00", head=head.id),
    )

    assert response.status_code == 302
    department = Department.objects.get(id=tenant.department.id)
    assert (department.name, department.head, department.monthly_limit_minor) == ("R&D", head, 5_000_000)
    assert head.has_perm("tenancy.view_department_spend", department)  # granted by department_set_head
    renamed = AuditEvent.objects.get(action="department.updated", target_id=str(department.id))
    assert (renamed.actor, renamed.before["name"], renamed.after["name"]) == (tenant.admin, "Engineering", "R&D")
    assert AuditEvent.objects.get(action="department.head_set").actor == tenant.admin


@pytest.mark.django_db
def test_a_finance_manager_sets_the_standing_limit_only(tenant):
    client = signed_in_client(tenant.finance)
    page = client.get(f"{DEPARTMENTS}{tenant.department.id}/change/").content.decode()
    assert 'name="monthly_limit"' in page and 'name="name"' not in page and 'name="head"' not in page
    assert client.get(f"{DEPARTMENTS}add/").status_code == 403

    response = client.post(
        f"{DEPARTMENTS}{tenant.department.id}/change/", {"monthly_limit": "42000.00", "name": "Hijacked"}
    )

    assert response.status_code == 302
    department = Department.objects.get(id=tenant.department.id)
    assert (department.name, department.monthly_limit_minor) == ("Engineering", 4_200_000)
    event = AuditEvent.objects.get(action="department.updated", actor=tenant.finance)
    assert (event.before["monthly_limit_minor"], event.after["monthly_limit_minor"]) == (5_000_000, 4_200_000)


@pytest.mark.django_db
def test_an_employee_and_another_organization_reach_nothing(tenant, other_tenant):
    employee = Client()
    employee.force_login(tenant.employee)
    assert employee.get(f"{DEPARTMENTS}add/").status_code == 302  # to the back office's login
    theirs = other_tenant.department
    client = signed_in_client(tenant.admin)
    assert client.get(f"{DEPARTMENTS}{theirs.id}/change/").status_code == 302  # "does not exist"
    client.post(f"{DEPARTMENTS}{theirs.id}/change/", _change_form(theirs, name="Taken"))
    foreign_parent = client.post(f"{DEPARTMENTS}add/", _form(parent=theirs.id))
    assert "Select a valid choice" in foreign_parent.content.decode()
    assert Department.objects.get(id=theirs.id).name == "Engineering"
    assert not Department.objects.filter(name="Platform").exists()


@pytest.mark.django_db
def test_a_system_admin_reads_departments_and_changes_none(tenant, system_admin):
    client = signed_in_client(system_admin)
    assert tenant.department.name in client.get(DEPARTMENTS).content.decode()
    assert client.get(f"{DEPARTMENTS}add/").status_code == 403
    assert (
        client.post(f"{DEPARTMENTS}{tenant.department.id}/change/", _change_form(tenant.department)).status_code == 403
    )


@pytest.mark.django_db
def test_a_head_once_named_is_replaced_not_cleared(tenant):
    client = signed_in_client(tenant.admin)
    client.post(
        f"{DEPARTMENTS}{tenant.department.id}/change/", _change_form(tenant.department, head=tenant.employee.id)
    )
    response = client.post(f"{DEPARTMENTS}{tenant.department.id}/change/", _change_form(tenant.department, head=""))
    assert response.status_code == 200 and "choose who takes over" in response.content.decode()
    assert Department.objects.get(id=tenant.department.id).head == tenant.employee


@pytest.mark.django_db(transaction=True)  # a move takes the settlement lock outside any transaction
def test_the_move_action_carries_the_budget_and_is_audited(tenant):
    company = DepartmentFactory(organization=tenant.organization, name="Company", monthly_limit_minor=10_000_000)
    spend_settled(user=tenant.employee, amount="600.00")
    client = signed_in_client(tenant.admin)
    select = {"action": "move", ACTION_CHECKBOX_NAME: [str(tenant.department.id)]}
    form_page = client.post(DEPARTMENTS, select)
    assert form_page.status_code == 200 and 'name="parent"' in form_page.content.decode()
    request_id = form_page.context["form"]["request_id"].value()

    response = client.post(DEPARTMENTS, {**select, "apply": "yes", "parent": company.id, "request_id": request_id})

    assert response.status_code == 302
    assert Department.objects.get(id=tenant.department.id).parent == company
    assert period_now(company).spent_minor == 60_000
    event = AuditEvent.objects.get(action="department.updated", target_id=str(tenant.department.id))
    assert (event.actor, event.after["parent"]) == (tenant.admin, str(company.id))


@pytest.mark.django_db(transaction=True)
def test_a_move_that_does_not_fit_is_refused_with_its_reason(tenant):
    small = DepartmentFactory(organization=tenant.organization, name="Small", monthly_limit_minor=10_000)
    spend_settled(user=tenant.employee, amount="600.00")
    client = signed_in_client(tenant.admin)
    select = {"action": "move", ACTION_CHECKBOX_NAME: [str(tenant.department.id)]}
    request_id = client.post(DEPARTMENTS, select).context["form"]["request_id"].value()

    response = client.post(
        DEPARTMENTS, {**select, "apply": "yes", "parent": small.id, "request_id": request_id}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("Engineering: " in m and "budget exceeded" in m for m in messages)
    assert Department.objects.get(id=tenant.department.id).parent is None


@pytest.mark.django_db
def test_finance_managers_cannot_move(tenant):
    assert '<option value="move">' not in signed_in_client(tenant.finance).get(DEPARTMENTS).content.decode()
    assert '<option value="move">' in signed_in_client(tenant.admin).get(DEPARTMENTS).content.decode()
