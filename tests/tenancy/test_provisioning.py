"""Users written for an identity provider (apps/tenancy/provisioning.py), each change audited with the
client's label, deactivation ending every session and token at once."""

import pytest

from apps.audit.models import AuditEvent
from apps.tenancy import provisioning
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from ledgerx.errors import Conflict, InvalidInput
from tests.conftest import client_for

LABEL = "scim:okta (scim_abc…)"


def _events(user) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(target_id=str(user.id)).order_by("id").values_list("action", "actor_email"))


@pytest.mark.django_db
def test_a_provisioned_user_is_an_employee_without_department_or_password(tenant):
    user = provisioning.user_provision(organization=tenant.organization, email=" Ada@Acme.Example ", actor_label=LABEL)
    assert (user.email, user.role, user.department, user.is_active) == ("ada@acme.example", Role.EMPLOYEE, None, True)
    assert not user.has_usable_password()
    assert _events(user) == [("user.provisioned", LABEL)]


@pytest.mark.django_db
def test_an_email_in_use_anywhere_or_not_an_email_is_refused(tenant, other_tenant):
    with pytest.raises(Conflict):
        provisioning.user_provision(organization=tenant.organization, email=other_tenant.admin.email, actor_label=LABEL)
    with pytest.raises(InvalidInput):
        provisioning.user_provision(organization=tenant.organization, email="not an email", actor_label=LABEL)
    with pytest.raises(Conflict):
        provisioning.user_set_email(user=tenant.employee, email=other_tenant.admin.email, actor_label=LABEL)


@pytest.mark.django_db
def test_email_and_department_changes_are_audited_once(tenant):
    user = tenant.employee
    provisioning.user_set_email(user=user, email="new@acme.example", actor_label=LABEL)
    provisioning.user_set_email(user=user, email="new@acme.example", actor_label=LABEL)
    provisioning.user_set_department(user=user, department=None, actor_label=LABEL)
    user.refresh_from_db()
    assert (user.email, user.department) == ("new@acme.example", None)
    assert _events(user) == [("user.email_changed", LABEL), ("user.department_changed", LABEL)]


@pytest.mark.django_db
def test_a_department_of_another_organization_is_refused(tenant, other_tenant):
    with pytest.raises(InvalidInput):
        provisioning.user_set_department(user=tenant.employee, department=other_tenant.department, actor_label=LABEL)


@pytest.mark.django_db
def test_deactivation_ends_every_session_and_token_and_reactivation_none_comes_back(tenant):
    user = tenant.employee
    client = client_for(user)
    assert client.get("/api/v1/me").status_code == 200
    generation = user.session_generation
    provisioning.user_deactivate(user=user, actor_label=LABEL)
    user.refresh_from_db()
    assert user.is_active is False and user.session_generation == generation + 1
    assert not user.api_tokens.filter(revoked_at__isnull=True).exists()
    assert client.get("/api/v1/me").status_code == 401
    provisioning.user_reactivate(user=user, actor_label=LABEL)
    user.refresh_from_db()
    assert user.is_active is True
    assert client.get("/api/v1/me").status_code == 401
    assert _events(user) == [("user.deactivated", LABEL), ("user.reactivated", LABEL)]


@pytest.mark.django_db
def test_the_last_active_org_admin_is_neither_deactivated_nor_demoted(tenant):
    with pytest.raises(Conflict):
        provisioning.user_deactivate(user=tenant.admin, actor_label=LABEL)
    with pytest.raises(Conflict):
        provisioning.user_role_write(user=tenant.admin, role=Role.EMPLOYEE, actor=None, actor_label=LABEL)
    provisioning.user_role_write(user=tenant.finance, role=Role.ORG_ADMIN, actor=None, actor_label=LABEL)
    provisioning.user_deactivate(user=tenant.finance, actor_label=LABEL)
    with pytest.raises(Conflict):
        tenancy_services.user_set_role(actor=tenant.admin, user=tenant.admin, role=Role.FINANCE_MANAGER)


@pytest.mark.django_db
def test_no_system_admin_is_made_or_touched(tenant, system_admin):
    with pytest.raises(InvalidInput):
        provisioning.user_role_write(user=tenant.employee, role=Role.SYSTEM_ADMIN, actor=None, actor_label=LABEL)
    with pytest.raises(InvalidInput):
        provisioning.user_role_write(user=system_admin, role=Role.EMPLOYEE, actor=None, actor_label=LABEL)
