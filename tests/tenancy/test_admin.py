"""The back office is scoped to the staff user's organization, and each role sees what it may."""

import pytest
from django.test import Client

from apps.tenancy.models import Role
from tests.factories import DepartmentFactory, login_verified


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db
def test_an_employee_cannot_open_the_back_office(tenant):
    response = admin_client(tenant.employee).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.FINANCE_MANAGER, {"organization", "department", "budgetperiod", "transaction", "entry", "account"}),
        (Role.ORG_ADMIN, {"organization", "department", "user", "budgetperiod", "transaction", "entry", "account"}),
    ],
)
def test_staff_roles_open_their_changelists_and_no_others(tenant, role, allowed):
    client = admin_client(tenant.user(role))
    paths = {
        "organization": "/admin/tenancy/organization/",
        "department": "/admin/tenancy/department/",
        "user": "/admin/tenancy/user/",
        "budgetperiod": "/admin/budgets/budgetperiod/",
        "transaction": "/admin/ledger/transaction/",
        "entry": "/admin/ledger/entry/",
        "account": "/admin/ledger/account/",
    }
    for name, path in paths.items():
        assert client.get(path).status_code == (200 if name in allowed else 403), name


@pytest.mark.django_db
def test_departments_and_organizations_of_other_tenants_do_not_exist_for_staff(tenant, other_tenant, system_admin):
    rockets = DepartmentFactory(organization=other_tenant.organization, name="Rockets")
    finance = admin_client(tenant.finance)

    listing = finance.get("/admin/tenancy/department/").content.decode()
    assert "Engineering" in listing and "Rockets" not in listing
    organizations = finance.get("/admin/tenancy/organization/").content.decode()
    assert tenant.organization.name in organizations and other_tenant.organization.name not in organizations
    response = finance.get(f"/admin/tenancy/department/{rockets.id}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"

    everything = admin_client(system_admin).get("/admin/tenancy/department/").content.decode()
    assert "Rockets" in everything


@pytest.mark.django_db
def test_users_of_the_organization_only_and_read_only(tenant, other_tenant):
    client = admin_client(tenant.admin)
    listing = client.get("/admin/tenancy/user/").content.decode()
    assert tenant.employee.email in listing and other_tenant.employee.email not in listing
    page = client.get(f"/admin/tenancy/user/{tenant.employee.id}/change/").content.decode()
    assert tenant.employee.email in page and tenant.employee.password not in page
    assert client.post(f"/admin/tenancy/user/{tenant.employee.id}/change/", {"role": "org_admin"}).status_code == 403
    assert client.get("/admin/tenancy/user/add/").status_code == 403
