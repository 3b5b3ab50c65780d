"""Passkeys in Debian's Chromium: a finance manager registers one with Chromium's virtual authenticator
(the DevTools protocol's WebAuthn domain), then proves it after the password at the next sign-in."""

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
    DESKTOP,
    _orm_beside_playwright,
    browser,
    check_accessible,
    pytestmark,
    screenshot,
)


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_a_finance_manager_registers_a_passkey_and_signs_in_with_it(browser, live_server, settings, tenant):  # noqa: F811
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    _log_in(page, live_server.url, tenant.finance.email)
    expect(page.get_by_role("alert")).to_contain_text("Your role signs in with a second factor")
    assert page.goto(f"{live_server.url}/finance/").url.startswith(f"{live_server.url}/mfa/?next=")
    check_accessible(page)
    screenshot(page, "mfa-enroll")
    page.get_by_role("button", name="Add a passkey").click()

    expect(page.locator("#passkey-list")).to_contain_text("added")
    [credential] = WebAuthnCredential.objects.filter(user=tenant.finance, confirmed=True)
    assert [
        c["credentialId"]
        for c in devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    ]
    event = AuditEvent.objects.get(action="mfa.device_added", target_id=str(tenant.finance.id))
    assert event.after == {"kind": "passkey", "id": credential.id}
    page.goto(f"{live_server.url}/finance/")
    expect(page.get_by_role("heading", name="Finance dashboard")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    _log_in(page, live_server.url, tenant.finance.email)
    expect(page).to_have_url(f"{live_server.url}/mfa/verify/?next=%2F")
    check_accessible(page)
    screenshot(page, "mfa-verify")
    page.get_by_role("button", name="Use a passkey").click()

    expect(page).to_have_url(f"{live_server.url}/finance/")
    expect(page.get_by_role("heading", name="Finance dashboard")).to_be_visible()
    credential.refresh_from_db()
    assert credential.last_used_at is not None
    context.close()
