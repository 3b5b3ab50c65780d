"""Sign in with SSO in Debian's Chromium: the email step, the provider's own page (a real OpenID Connect
provider process on 127.0.0.1), and back to LedgerX signed in as a user made at that moment."""

import re

import pytest
from playwright.sync_api import expect

from apps.sso import services
from apps.sso.models import SsoConfiguration
from apps.tenancy.models import Role, User
from tests.factories import DepartmentFactory, UserFactory
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
    _orm_beside_playwright,
    browser,
    check_accessible,
    pytestmark,
)

from .oidc_provider import oidc_provider


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_an_employee_signs_in_with_sso_from_the_login_page(browser, live_server):  # noqa: F811
    department = DepartmentFactory(name="General")
    admin = UserFactory(department=department, role=Role.ORG_ADMIN, email="admin@acme.test")
    with oidc_provider() as provider:
        services.configuration_save(
            actor=admin,
            configuration=SsoConfiguration(
                organization=department.organization,
                protocol=SsoConfiguration.Protocol.OIDC,
                enabled=True,
                oidc_issuer=provider.issuer,
                oidc_client_id="ledgerx",
                oidc_client_secret="ledgerx-secret",
                default_department=department,
            ),
            domains=["acme.test"],
        )
        provider.set_user("ana", email="ana@acme.test", email_verified=True)
        page = browser.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_role("link", name="Sign in with SSO").click()
        expect(page).to_have_url(f"{live_server.url}/sso/")
        check_accessible(page)
        page.get_by_label("Work email").fill("ana@acme.test")
        page.get_by_role("button", name="Continue").click()
        # The provider's consent page, on its own origin.
        expect(page).to_have_url(re.compile(re.escape(f"{provider.issuer}/oauth2/authorize?")))
        page.locator("input[name=sub]").fill("ana")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{live_server.url}/")
        expect(page.get_by_role("heading", name="My spend")).to_be_visible()
        page.close()
    user = User.objects.get(email="ana@acme.test")
    assert (user.organization_id, user.role, user.department_id) == (
        department.organization_id,
        Role.EMPLOYEE,
        department.id,
    )
