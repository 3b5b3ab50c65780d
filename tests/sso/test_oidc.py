"""OpenID Connect sign-in end to end: LedgerX (mozilla-django-oidc, per organization) against a real
provider process on 127.0.0.1 (oidc-provider-mock): discovery, the code flow with PKCE and nonce, the
RS256 ID token checked against the provider's JWKS, its issuer and audience, then JIT provisioning."""

import datetime
from urllib.parse import urlsplit

import jwt
import pytest
import time_machine
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from apps.sso import services
from apps.sso.models import SsoConfiguration
from apps.sso.oidc import OrganizationOidcBackend
from apps.tenancy.models import Role, User
from ledgerx.errors import InvalidInput
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory

from .oidc_provider import oidc_provider

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(scope="module")
def provider():
    with oidc_provider() as running:
        yield running


@pytest.fixture(scope="module")
def other_provider():
    with oidc_provider() as running:
        yield running


def oidc_organization(provider, domain: str) -> SsoConfiguration:
    organization = OrganizationFactory()
    department = DepartmentFactory(organization=organization, name="General")
    admin = UserFactory(role=Role.ORG_ADMIN, organization=organization, email=f"admin@{domain}")
    return services.configuration_save(
        actor=admin,
        configuration=SsoConfiguration(
            organization=organization,
            protocol=SsoConfiguration.Protocol.OIDC,
            enabled=True,
            oidc_issuer=provider.issuer,
            oidc_client_id="ledgerx",
            oidc_client_secret="ledgerx-secret",
            default_department=department,
        ),
        domains=[domain],
    )


def start(client: Client, configuration) -> str:
    response = client.get(f"/sso/oidc/{configuration.organization.slug}/login/", {"next": "/approvals/"})
    assert response.status_code == 302
    return response["Location"]


def callback(client: Client, location: str):
    parts = urlsplit(location)
    assert parts.path == "/sso/oidc/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(id=user_id).email if user_id else None


def test_discovery_fills_the_endpoints(provider):
    configuration = oidc_organization(provider, "acme.test")
    assert configuration.oidc_authorization_endpoint == f"{provider.issuer}/oauth2/authorize"
    assert configuration.oidc_jwks_uri == f"{provider.issuer}/jwks"


def test_the_code_flow_signs_in_and_provisions_by_groups(provider):
    configuration = oidc_organization(provider, "acme.test")
    finance = DepartmentFactory(organization=configuration.organization, name="Finance")
    configuration.rules.create(position=0, group="finance", role=Role.FINANCE_MANAGER, department=finance)
    provider.set_user("ana-1", email="ana@acme.test", email_verified=True, groups=["staff", "finance"])
    client = Client()
    authorization_url = start(client, configuration)
    assert authorization_url.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert "code_challenge=" in authorization_url and "nonce=" in authorization_url
    response = callback(client, provider.authorize(authorization_url, "ana-1"))
    assert response.status_code == 302, response.content
    assert response["Location"] == "/approvals/"
    assert signed_in_as(client) == "ana@acme.test"
    user = User.objects.get(email="ana@acme.test")
    assert (user.role, user.department, user.has_usable_password()) == (Role.FINANCE_MANAGER, finance, False)


def test_a_replayed_callback_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    provider.set_user("bo-1", email="bo@acme.test")
    client = Client()
    location = provider.authorize(start(client, configuration), "bo-1")
    assert callback(client, location).status_code == 302
    client.logout()
    replayed = callback(client, location)
    assert replayed.status_code == 400
    assert signed_in_as(client) is None


def test_a_callback_this_browser_did_not_start_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    provider.set_user("bo-2", email="bo2@acme.test")
    location = provider.authorize(start(Client(), configuration), "bo-2")
    stranger = Client()
    assert callback(stranger, location).status_code == 400
    assert signed_in_as(stranger) is None


def test_another_organizations_provider_is_refused(provider, other_provider):
    acme = oidc_organization(provider, "acme.test")
    oidc_organization(other_provider, "globex.test")
    other_provider.set_user("eve", email="eve@acme.test")
    client = Client()
    acme_authorization = start(client, acme)
    # Eve signs in at Globex's provider and brings its code to Acme's sign-in in flight.
    globex_location = other_provider.authorize(
        acme_authorization.replace(provider.issuer, other_provider.issuer), "eve"
    )
    response = callback(client, globex_location)
    assert response.status_code == 403
    assert b"refused the sign-in code" in response.content
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="eve@acme.test").exists()


def test_an_email_of_another_domain_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    provider.set_user("mallory", email="mallory@globex.test")
    client = Client()
    response = callback(client, provider.authorize(start(client, configuration), "mallory"))
    assert response.status_code == 403
    assert b"not in a domain" in response.content


def test_an_expired_id_token_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    provider.set_user("late", email="late@acme.test")
    client = Client()
    location = provider.authorize(start(client, configuration), "late")
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)):
        response = callback(client, location)
    assert response.status_code == 403
    assert b"Signature has expired" in response.content
    assert signed_in_as(client) is None


def test_an_id_token_for_another_audience_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    provider.set_user("aud", email="aud@acme.test")
    token = provider.id_token_for(client_id="another-client", sub="aud", nonce="n-1")
    backend = OrganizationOidcBackend(configuration)
    with pytest.raises(SuspiciousOperation, match="Audience"):
        backend.verify_token(token, nonce="n-1")
    # The same provider's token for LedgerX passes.
    assert backend.verify_token(provider.id_token_for(client_id="ledgerx", sub="aud", nonce="n-2"), nonce="n-2")


def test_an_unsigned_id_token_is_refused(provider):
    configuration = oidc_organization(provider, "acme.test")
    claims = {"iss": provider.issuer, "aud": "ledgerx", "sub": "x", "exp": 4102444800, "iat": 0, "nonce": "n"}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(SuspiciousOperation):
        OrganizationOidcBackend(configuration).verify_token(unsigned, nonce="n")


def test_an_id_token_of_another_issuer_is_refused(provider, other_provider):
    configuration = oidc_organization(provider, "acme.test")
    other_provider.set_user("iss", email="iss@acme.test")
    token = other_provider.id_token_for(client_id="ledgerx", sub="iss", nonce="n-3")
    with pytest.raises(SuspiciousOperation):
        OrganizationOidcBackend(configuration).verify_token(token, nonce="n-3")


def test_an_issuer_on_a_private_address_is_refused_in_production(provider, settings):
    settings.SSO_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput, match="private, loopback or reserved"):
        oidc_organization(provider, "acme.test")
    assert not SsoConfiguration.objects.exists()


def test_a_discovery_document_naming_another_issuer_is_refused(provider):
    organization = OrganizationFactory()
    admin = UserFactory(role=Role.ORG_ADMIN, organization=organization, email="admin@acme.test")
    configuration = SsoConfiguration(
        organization=organization,
        protocol=SsoConfiguration.Protocol.OIDC,
        oidc_issuer=provider.issuer + "/",
        oidc_client_id="ledgerx",
        oidc_client_secret="ledgerx-secret",
    )
    with pytest.raises(InvalidInput, match="another issuer"):
        services.configuration_save(actor=admin, configuration=configuration, domains=["acme.test"])
