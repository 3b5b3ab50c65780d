"""The invitation flow in Debian's Chromium: an org admin invites from the back office, the email
(Django's locmem backend here) carries the link, the invitee opens it, sets a password and lands
signed in on the employee page; the same link used again, or an expired one, is refused with a page
that says why."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from apps.audit.models import AuditEvent
from apps.tenancy import invitations
from apps.tenancy.models import Role, User
from tests.factories import PASSWORD
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
    DESKTOP,
    _orm_beside_playwright,
    browser,
    check_accessible,
    prove_second_factor,
    pytestmark,
    screenshot,
    second_factor_ahead,
)

NEW_PASSWORD = "a-long-fresh-passphrase-42"


def _sign_in(page, base: str, user: User) -> None:
    code = second_factor_ahead(user)
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    prove_second_factor(page, code)


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_an_invitee_follows_the_emailed_link_and_lands_signed_in(browser, live_server, tenant):  # noqa: F811
    admin_context = browser.new_context(viewport=DESKTOP)
    admin = admin_context.new_page()
    _sign_in(admin, live_server.url, tenant.admin)
    admin.goto(f"{live_server.url}/admin/tenancy/invitation/add/")
    admin.get_by_label("Email").fill("new.hire@example.com")
    admin.get_by_label("Role").select_option(label="Employee")
    admin.get_by_label("Department").select_option(label="Engineering")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("An invitation was emailed to new.hire@example.com")
    admin_context.close()

    [message] = mail.outbox
    link = re.search(r"http://\S+/invitations/\S+/", message.body).group(0)
    assert link.startswith(f"{live_server.url}/invitations/")

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Acme on LedgerX")).to_be_visible()
    check_accessible(page)
    screenshot(page, "invitation-accept")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type it again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="My spend")).to_be_visible()
    expect(page.locator(".who-user")).to_have_text("new.hire@example.com")
    user = User.objects.get(email="new.hire@example.com")
    assert (user.role, user.department) == (Role.EMPLOYEE, tenant.department)
    assert AuditEvent.objects.filter(action="invitation.accepted", actor=user).count() == 1

    fresh = browser.new_context(viewport=DESKTOP).new_page()
    response = fresh.goto(link)
    assert response.status == 410
    expect(fresh.get_by_role("alert")).to_contain_text("already been used")
    check_accessible(fresh)
    screenshot(fresh, "invitation-used")
    fresh.context.close()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_an_expired_link_is_refused_with_a_clear_page(browser, live_server, tenant):  # noqa: F811
    sent = invitations.invitation_send(
        actor=tenant.admin,
        organization=tenant.organization,
        email="late@example.com",
        role=Role.EMPLOYEE,
        department=tenant.department,
        site_url=live_server.url,
    )
    page = browser.new_context(viewport=DESKTOP).new_page()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = page.goto(sent.link)
        assert response.status == 410
        expect(page.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("has expired")
    assert not User.objects.filter(email="late@example.com").exists()
    page.context.close()
