"""Sign-in security through the pages: the gate on every page, the back office and session API calls;
enrollment with a real authenticator code; verification after the password; recovery codes."""

import re
from base64 import b32encode

import pyotp
import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from apps.tenancy import mfa
from tests.factories import PASSWORD, login_verified, totp_device_for

pytestmark = pytest.mark.django_db

FINANCE_PLACES = ["/finance/", "/finance/panels", "/admin/", "/admin/budgets/budgetperiod/", "/approvals/"]


def _password_only(user) -> Client:
    """Signed in through the login page with the right password, and nothing more."""
    client = Client()
    response = client.post("/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _code_of(device: TOTPDevice) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode()).now()


@pytest.mark.parametrize("path", FINANCE_PLACES)
def test_a_finance_manager_without_a_second_factor_is_sent_to_enroll_from_every_page(tenant, path):
    response = _password_only(tenant.finance).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/mfa/?next=")


@pytest.mark.parametrize("path", ["/api/v1/transactions", "/api/v1/me", "/api/v1/budgets"])
def test_a_finance_manager_without_a_second_factor_gets_no_answer_from_the_api_with_the_session(tenant, path):
    response = _password_only(tenant.finance).get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "second_factor_enrollment_required"


def test_the_login_page_sends_a_finance_manager_to_enroll_and_they_reach_the_dashboard_after(tenant):
    client = Client()
    response = client.post("/login/", {"username": tenant.finance.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/mfa/?next=%2F"
    assert "Your role signs in with a second factor" in response.content.decode()

    page = client.get("/mfa/totp/?next=/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.content.decode()).group(1)
    codes_page = client.post("/mfa/totp/", {"code": pyotp.TOTP(secret).now(), "next": "/"})

    assert codes_page.status_code == 200
    assert 'href="/"' in codes_page.content.decode()  # on to where they were going: their landing page
    assert len(re.findall(r"<li><code>([a-z2-7]+)</code></li>", codes_page.content.decode())) == 10
    assert client.get("/finance/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    assert set(AuditEvent.objects.filter(target_id=str(tenant.finance.id)).values_list("action", flat=True)) >= {
        "mfa.device_added",
        "mfa.recovery_codes_generated",
    }


def test_a_wrong_code_does_not_confirm_an_authenticator_app(tenant):
    client = _password_only(tenant.finance)
    client.get("/mfa/totp/")
    device = TOTPDevice.objects.get(user=tenant.finance)
    wrong = f"{(int(_code_of(device)) + 1) % 1_000_000:06d}"

    response = client.post("/mfa/totp/", {"code": wrong})

    assert response.status_code == 400
    assert not mfa.has_second_factor(tenant.finance)
    assert client.get("/finance/").status_code == 302


@pytest.mark.parametrize("path", FINANCE_PLACES)
def test_an_enrolled_finance_manager_proves_the_second_factor_before_any_page(tenant, path):
    totp_device_for(tenant.finance)
    response = _password_only(tenant.finance).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/mfa/verify/?next=")


def test_after_the_password_a_real_code_opens_the_pages_and_the_same_code_is_refused_again(tenant):
    device = totp_device_for(tenant.finance)
    TOTPDevice.objects.filter(id=device.id).update(last_t=-1)  # forget the code that confirmed it
    client = _password_only(tenant.finance)
    assert client.get("/api/v1/me").json()["error"]["code"] == "second_factor_required"
    code = _code_of(device)

    response = client.post("/mfa/verify/", {"code": code, "next": "/admin/"})

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200
    assert client.get("/finance/").status_code == 200
    replay = _password_only(tenant.finance).post("/mfa/verify/", {"code": code})
    assert replay.status_code == 400
    assert "not right, or was used already" in replay.content.decode()


def test_a_recovery_code_signs_in_once(tenant):
    client = _password_only(tenant.finance)
    login_verified(client, tenant.finance)
    codes_page = client.post("/mfa/recovery-codes/")
    code = re.findall(r"<li><code>([a-z2-7]+)</code></li>", codes_page.content.decode())[0]

    first = _password_only(tenant.finance)
    assert first.post("/mfa/verify/", {"code": code}).status_code == 302
    assert first.get("/finance/").status_code == 200
    second = _password_only(tenant.finance)
    assert second.post("/mfa/verify/", {"code": code}).status_code == 400
    assert second.get("/finance/").status_code == 302


def test_an_employee_may_go_without_and_may_enroll(tenant):
    client = _password_only(tenant.employee)
    assert client.get("/").status_code == 200
    page = client.get("/mfa/")
    assert "optional for your role" in page.content.decode()


def test_a_verified_user_removes_a_device_and_a_required_role_must_enroll_again(tenant):
    client = Client()
    login_verified(client, tenant.finance)
    device = TOTPDevice.objects.get(user=tenant.finance)

    assert client.post(f"/mfa/devices/authenticator_app/{device.id}/remove").status_code == 302
    assert client.post(f"/mfa/devices/authenticator_app/{device.id}/remove").status_code in (302, 404)
    assert not mfa.has_second_factor(tenant.finance)
    assert client.get("/finance/")["Location"].startswith("/mfa/?next=")


def test_a_device_of_another_user_is_not_found(tenant):
    other = totp_device_for(tenant.admin)
    client = Client()
    login_verified(client, tenant.finance)
    assert client.post(f"/mfa/devices/authenticator_app/{other.id}/remove").status_code == 404
    assert TOTPDevice.objects.filter(id=other.id).exists()


def test_an_unverified_user_cannot_manage_devices_nor_register_a_passkey(tenant):
    device = totp_device_for(tenant.finance)
    client = _password_only(tenant.finance)
    assert client.post(f"/mfa/devices/authenticator_app/{device.id}/remove")["Location"].startswith("/mfa/verify/")
    assert client.post("/mfa/recovery-codes/")["Location"].startswith("/mfa/verify/")
    assert client.post("/mfa/webauthn/registration/begin/")["Location"].startswith("/mfa/verify/")
    assert TOTPDevice.objects.filter(id=device.id).exists()
