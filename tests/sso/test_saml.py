"""SAML sign-in end to end: LedgerX's service provider (djangosaml2, pysaml2, xmlsec1) against a real
pysaml2 identity provider whose signed responses the test client carries, as a browser would."""

import datetime
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from apps.audit.models import AuditEvent
from apps.sso import services
from apps.sso.models import SsoAssertionUse, SsoConfiguration
from apps.tenancy.models import Role, User
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory

from .saml_idp import XMLSEC, SamlIdentityProvider

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not Path(XMLSEC).exists(), reason="xmlsec1 is not installed (deploy/ensure_xmlsec.sh)"),
]


def saml_organization(tmp_path, domain: str, *, idp_entity_id: str, by_fields: bool = False):
    """An organization whose SAML IdP is given by its metadata, or by its entity id, sign-on URL and
    certificate (`by_fields`)."""
    organization = OrganizationFactory()
    department = DepartmentFactory(organization=organization, name="General")
    admin = UserFactory(role=Role.ORG_ADMIN, organization=organization, email=f"admin@{domain}")
    idp = SamlIdentityProvider(tmp_path, idp_entity_id)
    idp_fields = (
        {
            "saml_idp_entity_id": idp.entity_id,
            "saml_idp_sso_url": idp.sso_url,
            "saml_idp_certificate": idp.cert_path.read_text(),
        }
        if by_fields
        else {"saml_metadata_xml": idp.metadata()}
    )
    configuration = services.configuration_save(
        actor=admin,
        configuration=SsoConfiguration(
            organization=organization,
            protocol=SsoConfiguration.Protocol.SAML,
            enabled=True,
            default_department=department,
            **idp_fields,
        ),
        domains=[domain],
    )
    sp_metadata = Client().get(f"/sso/saml/{organization.slug}/metadata/").content.decode()
    idp.trust(sp_metadata)
    return configuration, idp


@pytest.fixture
def acme(tmp_path):
    return saml_organization(tmp_path, "acme.test", idp_entity_id="https://idp.acme.test/")


def sp_urls(configuration) -> tuple[str, str]:
    slug = configuration.organization.slug
    return f"http://testserver/sso/saml/{slug}/acs/", f"http://testserver/sso/saml/{slug}/metadata/"


def start(client: Client, configuration, idp) -> tuple[str, str]:
    response = client.get(f"/sso/saml/{configuration.organization.slug}/login/", {"next": "/approvals/"})
    assert response.status_code == 302
    assert response["Location"].startswith(idp.sso_url)
    return idp.read_request(response["Location"])


def post_response(client: Client, configuration, saml_response: str, relay_state: str):
    acs_url, _ = sp_urls(configuration)
    return client.post(acs_url, {"SAMLResponse": saml_response, "RelayState": relay_state})


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(id=user_id).email if user_id else None


def test_a_signed_assertion_signs_in_and_provisions_the_user(acme):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="Ana@Acme.test")
    response = post_response(client, configuration, saml_response, relay_state)
    assert response.status_code == 302, response.content
    assert response["Location"] == "/approvals/"
    assert signed_in_as(client) == "ana@acme.test"
    user = User.objects.get(email="ana@acme.test")
    assert user.organization_id == configuration.organization_id
    assert user.role == Role.EMPLOYEE and user.department == configuration.default_department
    assert not user.has_usable_password()
    created = AuditEvent.objects.get(action="user.provisioned", target_id=str(user.id))
    assert created.actor is None and created.actor_email == "sso:saml"


def test_an_idp_given_by_entity_id_url_and_certificate_signs_in(tmp_path):
    configuration, idp = saml_organization(
        tmp_path, "initech.test", idp_entity_id="https://idp.initech.test/", by_fields=True
    )
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="p@initech.test")
    assert post_response(client, configuration, saml_response, relay_state).status_code == 302
    assert signed_in_as(client) == "p@initech.test"


def test_an_existing_user_signs_in_as_themselves(acme):
    configuration, idp = acme
    existing = UserFactory(
        organization=configuration.organization, department=configuration.default_department, email="bo@acme.test"
    )
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="bo@acme.test")
    assert post_response(client, configuration, saml_response, relay_state).status_code == 302
    assert client.session["_auth_user_id"] == str(existing.id)
    assert User.objects.filter(email="bo@acme.test").count() == 1


def assert_refused(response, client: Client) -> None:
    assert response.status_code in (400, 403), response.status_code
    assert signed_in_as(client) is None


def test_a_wrong_audience_is_refused(acme):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, _ = sp_urls(configuration)
    saml_response = idp.response(
        in_response_to=request_id, acs_url=acs_url, audience="https://another-sp.test/", email="ana@acme.test"
    )
    assert_refused(post_response(client, configuration, saml_response, relay_state), client)
    assert not User.objects.filter(email="ana@acme.test").exists()


def test_an_expired_assertion_is_refused(acme):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="ana@acme.test")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=30)
    with time_machine.travel(later):
        assert_refused(post_response(client, configuration, saml_response, relay_state), client)


def test_an_unsigned_response_is_refused(acme):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(
        in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="ana@acme.test", signed=False
    )
    assert_refused(post_response(client, configuration, saml_response, relay_state), client)


def test_a_replayed_assertion_is_refused(acme):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="ana@acme.test")
    assert post_response(client, configuration, saml_response, relay_state).status_code == 302
    assert SsoAssertionUse.objects.filter(configuration=configuration).count() == 1
    # The same browser again, and another one that started a sign-in of its own.
    client.logout()
    assert_refused(post_response(client, configuration, saml_response, relay_state), client)
    other = Client()
    start(other, configuration, idp)
    assert_refused(post_response(other, configuration, saml_response, relay_state), other)


def test_an_assertion_used_once_is_refused_by_the_store_alone(acme):
    configuration, _ = acme
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    services.assertion_use_record(configuration=configuration, assertion_id="id-1", expires_at=expires)
    with pytest.raises(services.SsoRefused):
        services.assertion_use_record(configuration=configuration, assertion_id="id-1", expires_at=expires)


def test_another_organizations_identity_provider_is_refused(acme, tmp_path):
    configuration, _ = acme
    _, other_idp = saml_organization(tmp_path, "globex.test", idp_entity_id="https://idp.globex.test/")
    client = Client()
    start(client, configuration, acme[1])
    # Globex's IdP trusts Acme's SP too, and answers with a signed assertion for an Acme address.
    acs_url, entity_id = sp_urls(configuration)
    other_idp.trust(Client().get(f"/sso/saml/{configuration.organization.slug}/metadata/").content.decode())
    request_id, relay_state = start(client, configuration, acme[1])
    saml_response = other_idp.response(
        in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="ana@acme.test"
    )
    assert_refused(post_response(client, configuration, saml_response, relay_state), client)


def test_an_email_outside_the_organizations_domains_is_refused(acme, tmp_path):
    configuration, idp = acme
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(
        in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="eve@globex.test"
    )
    response = post_response(client, configuration, saml_response, relay_state)
    assert_refused(response, client)
    assert b"not in a domain" in response.content


def test_a_user_of_another_organization_is_refused(acme):
    configuration, idp = acme
    UserFactory(department=DepartmentFactory(), email="moved@acme.test")
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(
        in_response_to=request_id, acs_url=acs_url, audience=entity_id, email="moved@acme.test"
    )
    assert_refused(post_response(client, configuration, saml_response, relay_state), client)


def test_groups_map_to_role_and_department_by_the_first_matching_rule(acme):
    configuration, idp = acme
    finance = DepartmentFactory(organization=configuration.organization, name="Finance")
    admin = User.objects.get(email="admin@acme.test")
    services.configuration_save(
        actor=admin,
        configuration=configuration,
        domains=["acme.test"],
        rules=[
            {"group": "ledgerx-admins", "role": Role.ORG_ADMIN, "department": None},
            {"group": "finance", "role": Role.FINANCE_MANAGER, "department": finance},
        ],
    )
    client = Client()
    request_id, relay_state = start(client, configuration, idp)
    acs_url, entity_id = sp_urls(configuration)
    saml_response = idp.response(
        in_response_to=request_id,
        acs_url=acs_url,
        audience=entity_id,
        email="fin@acme.test",
        groups=("staff", "finance"),
    )
    assert post_response(client, configuration, saml_response, relay_state).status_code == 302
    user = User.objects.get(email="fin@acme.test")
    assert (user.role, user.department) == (Role.FINANCE_MANAGER, finance)


def test_no_saml_login_for_an_organization_without_it(acme):
    configuration, _ = acme
    configuration.enabled = False
    configuration.save()
    assert Client().get(f"/sso/saml/{configuration.organization.slug}/login/").status_code == 404


def test_the_email_step_finds_the_organization_by_domain(acme):
    configuration, _ = acme
    response = Client().post("/sso/", {"email": "ana@ACME.test", "next": "/approvals/"})
    assert response.status_code == 302
    assert response["Location"] == f"/sso/saml/{configuration.organization.slug}/login/?next=%2Fapprovals%2F"
    unknown = Client().post("/sso/", {"email": "ana@unknown.test"})
    assert unknown.status_code == 400
    assert b"No single sign-on is set up for unknown.test" in unknown.content
