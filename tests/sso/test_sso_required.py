"""SSO required: password sign-in off for the organization's users, on every way in (the sign-in page,
the back office's, API tokens); its org admins keep it, audited, as the break-glass way in."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.sso import services
from apps.sso.backends import SSO_REQUIRED_MESSAGE
from apps.sso.models import SsoConfiguration, SsoDomain
from apps.tenancy.models import Role
from tests.factories import PASSWORD, DepartmentFactory, UserFactory, otp_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def department():
    return DepartmentFactory(name="General")


def require_sso(organization, *, required: bool = True) -> SsoConfiguration:
    # Written directly: what is under test is the sign-in, not the configuration's checks (test_admin.py).
    configuration = SsoConfiguration.objects.create(
        organization=organization,
        protocol=SsoConfiguration.Protocol.OIDC,
        enabled=True,
        sso_required=required,
        oidc_issuer="https://idp.example.test",
    )
    SsoDomain.objects.create(configuration=configuration, domain=f"{organization.slug}.test")
    return configuration


def password_login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


def test_an_employee_cannot_sign_in_with_a_password_when_sso_is_required(department):
    employee = UserFactory(department=department)
    require_sso(department.organization)
    client = Client()
    response = password_login(client, employee.email)
    assert response.status_code == 200
    assert SSO_REQUIRED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_still_gets_the_usual_answer(department):
    employee = UserFactory(department=department)
    require_sso(department.organization)
    response = password_login(Client(), employee.email, "wrong-password-1")
    assert SSO_REQUIRED_MESSAGE not in response.content.decode()
    assert "correct email" in response.content.decode()


def test_a_finance_manager_gets_no_api_token_when_sso_is_required(department):
    manager = UserFactory(department=department, role=Role.FINANCE_MANAGER)
    require_sso(department.organization)
    response = Client().post(
        "/api/v1/auth/token",
        {"email": manager.email, "password": PASSWORD, **otp_fields(manager)},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_the_back_office_login_refuses_a_finance_manager_too(department):
    manager = UserFactory(department=department, role=Role.FINANCE_MANAGER)
    require_sso(department.organization)
    client = Client()
    response = client.post("/admin/login/", {"username": manager.email, "password": PASSWORD})
    assert SSO_REQUIRED_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_org_admin_breaks_glass_with_a_password_and_it_is_audited(department):
    admin = UserFactory(department=department, role=Role.ORG_ADMIN)
    configuration = require_sso(department.organization)
    client = Client()
    response = password_login(client, admin.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.id)
    event = AuditEvent.objects.get(action="sso.break_glass_sign_in")
    assert (event.actor, event.target_id, event.organization_id) == (
        admin,
        str(configuration.id),
        department.organization_id,
    )


def test_the_org_admins_api_token_is_break_glass_too(department):
    admin = UserFactory(department=department, role=Role.ORG_ADMIN)
    require_sso(department.organization)
    response = Client().post(
        "/api/v1/auth/token",
        {"email": admin.email, "password": PASSWORD, **otp_fields(admin)},
        content_type="application/json",
    )
    assert response.status_code in (200, 201), response.content
    assert AuditEvent.objects.filter(action="sso.break_glass_sign_in", actor=admin).count() == 1


def test_passwords_work_where_sso_is_not_required_or_in_other_organizations(department):
    employee = UserFactory(department=department)
    other = UserFactory(department=DepartmentFactory())
    require_sso(department.organization, required=False)
    require_sso(other.organization)
    client = Client()
    assert password_login(client, employee.email).status_code == 302
    assert not AuditEvent.objects.filter(action="sso.break_glass_sign_in").exists()


def test_a_provisioned_user_has_no_password_to_sign_in_with(department):
    configuration = require_sso(department.organization, required=False)
    configuration.default_department = department
    configuration.save()
    user = services.sso_sign_in(
        configuration=configuration, email=f"new@{department.organization.slug}.test", groups=[], source="oidc"
    )
    assert not user.has_usable_password()
    response = password_login(Client(), user.email, "")
    assert response.status_code == 200
