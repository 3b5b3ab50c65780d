"""API tokens expire and can be revoked; security headers are on pages, the API and its errors."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.tenancy import services as tenancy_services
from apps.tenancy.models import ApiToken
from apps.tenancy.selectors import token_hash
from tests.factories import PASSWORD, otp_fields

pytestmark = pytest.mark.django_db


def _client_with(client, key):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    return client


def test_a_token_lives_for_the_configured_ttl(tenant, settings):
    settings.API_TOKEN_TTL = timedelta(minutes=30)
    before = timezone.now()
    key, _ = tenancy_services.token_issue(
        email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin)
    )
    token = ApiToken.objects.get(key_hash=token_hash(key))
    assert before + timedelta(minutes=30) <= token.expires_at <= timezone.now() + timedelta(minutes=30)


def test_an_expired_token_is_refused(tenant, client, settings):
    settings.API_TOKEN_TTL = timedelta(seconds=1)
    key, _ = tenancy_services.token_issue(
        email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin)
    )
    _client_with(client, key)
    assert client.get("/api/v1/me").status_code == 200  # and now its owner is cached

    time.sleep(1.1)

    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_a_revoked_token_is_refused(tenant, client):
    key, _ = tenancy_services.token_issue(
        email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin)
    )
    _client_with(client, key)
    assert client.delete("/api/v1/auth/token/revoke").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_a_deactivated_users_token_is_refused(tenant, client):
    key, _ = tenancy_services.token_issue(
        email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.employee)
    )
    type(tenant.employee).objects.filter(id=tenant.employee.id).update(is_active=False)
    assert _client_with(client, key).get("/api/v1/me").status_code == 401


def test_only_the_hash_of_a_token_is_stored(tenant):
    key, _ = tenancy_services.token_issue(
        email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin)
    )
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert ApiToken.objects.filter(key_hash=token_hash(key)).exists()


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    ("path", "authenticated", "status"),
    [
        ("/api/v1/me", True, 200),
        ("/api/v1/me", False, 401),
        ("/api/v1/departments/00000000-0000-0000-0000-000000000000", True, 404),
        ("/api/v1/nowhere", False, 404),
        ("/admin/login/", False, 200),
        ("/healthz", False, 200),
        ("/api/schema/", False, 200),
        ("/api/docs/", False, 200),
    ],
)
def test_security_headers_on_pages_api_and_errors(tenant, client, path, authenticated, status):
    if authenticated:
        key, _ = tenancy_services.token_issue(
            email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin)
        )
        _client_with(client, key)
    response = client.get(path)
    assert response.status_code == status
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value, header


def test_the_session_and_csrf_cookies_are_set_safely(system_admin, client):
    response = client.post("/admin/login/?next=/admin/", {"username": system_admin.email, "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
