"""Passwords are hashed with Argon2id at the measured cost; older hashes are upgraded at sign-in."""

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import Client
from rest_framework.test import APIClient

from apps.tenancy import services
from apps.tenancy.models import User
from tests.factories import PASSWORD, otp_fields

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = ["ledgerx.hashers.MeasuredArgon2Hasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_at_the_next_sign_in(tenant, settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    User.objects.filter(id=tenant.admin.id).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    services.token_issue(email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", **otp_fields(tenant.admin))
    upgraded = User.objects.get(id=tenant.admin.id).password
    assert identify_hasher(upgraded).algorithm == "argon2"
    assert upgraded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def _token(user, client_ip="127.0.0.1") -> str:
    key, _ = services.token_issue(email=user.email, password=PASSWORD, client_ip=client_ip, **otp_fields(user))
    return key


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _signed_in_page(user) -> Client:
    page = Client()
    assert page.post("/login/", {"username": user.email, "password": PASSWORD}).status_code == 302
    assert _signed_in(page)
    return page


def _signed_in(page: Client) -> bool:
    """The home page shows or sends a signed-in user to their own page, anyone else to the sign-in page."""
    response = page.get("/", follow=False)
    return response.status_code == 200 or not response.url.startswith("/login/")


NEW_PASSWORD = "a-brand-new-passphrase"


def test_changing_ones_password_ends_every_other_token_and_session_but_this_one(tenant):
    current, other = _token(tenant.employee), _token(tenant.employee)
    page = _signed_in_page(tenant.employee)

    changed = _client(current).post(
        "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert changed.status_code == 204
    assert _client(current).get("/api/v1/me").status_code == 200
    assert _client(other).get("/api/v1/me").status_code == 401
    assert not _signed_in(page)  # the session signed in before is over
    assert (
        APIClient()
        .post("/api/v1/auth/token", {"email": tenant.employee.email, "password": NEW_PASSWORD}, format="json")
        .status_code
        == 200
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "wrong-password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "mfa": "1"}, "mfa"),
    ],
)
def test_a_bad_password_change_is_a_400_naming_the_field_and_changes_nothing(tenant, body, field):
    key = _token(tenant.employee)
    refused = _client(key).post("/api/v1/auth/password", body, format="json")
    assert refused.status_code == 400 and field in refused.json()["error"]["fields"]
    assert _client(key).get("/api/v1/me").status_code == 200
    assert User.objects.get(id=tenant.employee.id).check_password(PASSWORD)


def test_password_endpoints_need_a_signed_in_user(tenant):
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert APIClient().post("/api/v1/auth/password", body, format="json").status_code == 401
    assert APIClient().post("/api/v1/auth/logout-everywhere").status_code == 401


def test_signing_out_everywhere_ends_every_token_and_session_this_one_included(tenant, other_tenant):
    first, second = _token(tenant.finance), _token(tenant.finance)
    untouched = _token(other_tenant.finance)
    page = _signed_in_page(tenant.finance)

    assert _client(first).post("/api/v1/auth/logout-everywhere").status_code == 204

    assert _client(first).get("/api/v1/me").status_code == 401
    assert _client(second).get("/api/v1/me").status_code == 401
    assert not _signed_in(page)
    assert _client(untouched).get("/api/v1/me").status_code == 200
    assert _client(_token(tenant.finance)).get("/api/v1/me").status_code == 200  # signing in again works


def test_a_password_set_any_other_way_revokes_every_token(tenant):
    """The back office and `manage.py changepassword` set it on the model: the model revokes."""
    key = _token(tenant.admin)
    user = User.objects.get(id=tenant.admin.id)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert _client(key).get("/api/v1/me").status_code == 401
