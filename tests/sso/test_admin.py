"""The back office's SSO page: an org admin sets up their own organization's sign-on, audited with
them as actor; finance managers and other organizations' admins cannot reach it."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.sso.models import SsoConfiguration
from apps.tenancy.models import Role
from tests.factories import DepartmentFactory, UserFactory, signed_in_client

from .saml_idp import key_and_certificate

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/sso/ssoconfiguration/add/"


@pytest.fixture
def acme():
    department = DepartmentFactory(name="General")
    return department, UserFactory(department=department, role=Role.ORG_ADMIN, email="admin@acme.test")


def saml_form(department, tmp_path, **overrides) -> dict:
    _, certificate = key_and_certificate(tmp_path, "idp.acme.test")
    return {
        "organization": str(department.organization_id),
        "protocol": "saml",
        "enabled": "on",
        "saml_idp_entity_id": "https://idp.acme.test/",
        "saml_idp_sso_url": "https://idp.acme.test/sso",
        "saml_idp_certificate": certificate.read_text(),
        "email_domains": "acme.test, Acme.co.uk",
        "groups_attribute": "groups",
        "default_role": "employee",
        "default_department": str(department.id),
        "role_rules": "finance = finance_manager = General\nadmins = org_admin",
        **overrides,
    }


def test_an_org_admin_sets_up_saml_and_it_is_audited(acme, tmp_path):
    department, admin = acme
    client = signed_in_client(admin)
    response = client.post(ADD_URL, saml_form(department, tmp_path))
    assert response.status_code == 302, response.content.decode()[-3000:]
    configuration = SsoConfiguration.objects.get(organization=department.organization)
    assert configuration.saml_idp_entity_id == "https://idp.acme.test/"
    assert "X509Certificate" in configuration.saml_metadata_xml
    assert sorted(configuration.domains.values_list("domain", flat=True)) == ["acme.co.uk", "acme.test"]
    assert [(rule.group, rule.role, rule.department) for rule in configuration.rules.all()] == [
        ("finance", "finance_manager", department),
        ("admins", "org_admin", None),
    ]
    event = AuditEvent.objects.get(action="sso.configured")
    assert (event.actor, event.before, event.after["domains"]) == (admin, None, ["acme.co.uk", "acme.test"])

    change = signed_in_client(admin).post(
        f"/admin/sso/ssoconfiguration/{configuration.id}/change/",
        saml_form(department, tmp_path, sso_required="on"),
    )
    assert change.status_code == 302
    configuration.refresh_from_db()
    assert configuration.sso_required
    latest = AuditEvent.objects.filter(action="sso.configured").order_by("-id").first()
    assert (latest.before["sso_required"], latest.after["sso_required"]) == (False, True)


def test_a_bad_setup_shows_why_and_changes_nothing(acme, tmp_path):
    department, admin = acme
    client = signed_in_client(admin)
    response = client.post(ADD_URL, saml_form(department, tmp_path, role_rules="finance = boss"))
    assert response.status_code == 200
    assert "Line 1" in response.content.decode()
    response = client.post(ADD_URL, saml_form(department, tmp_path, saml_idp_certificate="", saml_idp_sso_url=""))
    assert response.status_code == 200
    assert "Give the IdP" in response.content.decode()
    assert not SsoConfiguration.objects.exists()
    assert not AuditEvent.objects.filter(action="sso.configured").exists()


def test_metadata_from_a_private_address_is_refused_in_production(acme, tmp_path, settings):
    settings.SSO_ALLOW_PRIVATE_URLS = False
    department, admin = acme
    form = saml_form(department, tmp_path, saml_metadata_url="http://127.0.0.1:9/metadata.xml")
    response = signed_in_client(admin).post(ADD_URL, form)
    assert response.status_code == 200
    assert "private, loopback or reserved" in response.content.decode()
    assert not SsoConfiguration.objects.exists()


def test_a_domain_of_another_organization_is_refused(acme, tmp_path):
    department, admin = acme
    assert signed_in_client(admin).post(ADD_URL, saml_form(department, tmp_path)).status_code == 302
    globex = DepartmentFactory(name="General")
    globex_admin = UserFactory(department=globex, role=Role.ORG_ADMIN, email="admin@globex.test")
    response = signed_in_client(globex_admin).post(ADD_URL, saml_form(globex, tmp_path, email_domains="acme.test"))
    assert response.status_code == 200
    assert "already signs in through another organization" in response.content.decode()
    assert SsoConfiguration.objects.count() == 1


def test_others_cannot_see_or_change_an_organizations_sign_on(acme, tmp_path):
    department, admin = acme
    signed_in_client(admin).post(ADD_URL, saml_form(department, tmp_path))
    configuration = SsoConfiguration.objects.get()
    change_url = f"/admin/sso/ssoconfiguration/{configuration.id}/change/"
    finance = signed_in_client(UserFactory(department=department, role=Role.FINANCE_MANAGER))
    assert finance.get("/admin/sso/ssoconfiguration/").status_code == 403
    assert finance.post(change_url, saml_form(department, tmp_path, sso_required="on")).status_code == 403
    other_admin = signed_in_client(UserFactory(department=DepartmentFactory(), role=Role.ORG_ADMIN))
    assert other_admin.get(change_url).status_code == 302  # the back office's "not found" redirect
    other_admin.post(change_url, saml_form(department, tmp_path, sso_required="on"))
    # Nor for their own organization: the organization field offers only their own.
    employee = Client()
    employee.force_login(UserFactory(department=department))
    assert employee.get("/admin/sso/ssoconfiguration/").status_code == 302
    configuration.refresh_from_db()
    assert not configuration.sso_required
    assert AuditEvent.objects.filter(action="sso.configured").count() == 1
