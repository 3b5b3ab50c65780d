"""The back office finance works in, in Debian's Chromium at a desktop's 1280 px and a phone's 390 px: the
transaction list (every column in sight), a spend's page, the reverse confirmation, setting a limit, an
approval, a fraud review, a reconciliation and the dashboard's fraud panel; each page axe-clean, fitting the
screen, and photographed (docs/screenshots/ under `make screenshots`).

One live server, one browser, one set of books, and each page loaded once per width: the suite stays fast."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.reconciliation import services as reconciliation_services
from tests.factories import PASSWORD
from tests.reconciliation.statements import csv_bytes, source_of
from tests.web.test_back_office_pages import books  # noqa: F401 - the books fixture, shared
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
    DESKTOP,
    PHONE,
    _orm_beside_playwright,
    browser,
    check_accessible,
    check_fits_the_screen,
    prove_second_factor,
    pytestmark,
    screenshot,
    second_factor_ahead,
)

ZONED_TIME = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} E[SD]T")
UUID_OR_SHORT_ID = re.compile(r"\b[0-9a-f]{8}\b", re.I)


def signed_in(chromium, live_server, user, viewport):
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    code = second_factor_ahead(user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    prove_second_factor(page, code)
    return context, page


def looks_right(page, name: str, width: str) -> None:
    """Axe-clean, no sideways scrolling, no id in what a person reads; photographed."""
    check_accessible(page)
    check_fits_the_screen(page)
    assert not UUID_OR_SHORT_ID.search(page.locator("#content, main").first.inner_text())
    screenshot(page, f"back-office-{name}-{width}")


def choose_action(page, row_text: str, action: str) -> None:
    page.locator("#result_list tbody tr", has_text=row_text).first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_the_back_office_finance_uses_at_a_desktops_and_a_phones_width(browser, live_server, books, tenant):  # noqa: F811
    source = source_of(tenant.organization, name="Corporate card")
    today = timezone.localdate(timezone=ZoneInfo(tenant.organization.timezone)).isoformat()
    reconciliation_services.statement_import(
        actor=tenant.finance,
        source=source,
        file_name="december.csv",
        content=csv_bytes([(today, "310.00", "HILTON NYC", "h-1"), (today, "9.99", "ICLOUD", "a-2")]),
    )

    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page = signed_in(browser, live_server, tenant.finance, viewport)
        base = live_server.url

        page.goto(f"{base}/admin/ledger/transaction/")
        rows = page.locator("#result_list tbody tr")
        expect(rows.filter(has_text="Credit reverses $6,000 at Dell")).to_contain_text("-$6,000")
        expect(page.locator(".organization-zone")).to_contain_text("times in America/New_York")
        status = rows.first.locator("td.field-standing")
        expect(status).to_be_visible()
        assert status.bounding_box()["x"] + status.bounding_box()["width"] <= viewport["width"]
        expect(rows.first.locator("td.field-amount")).to_be_visible()
        looks_right(page, "transactions", width)

        rows.filter(has_text="Dell · equipment").filter(has_text="Reversed").locator("a", has_text="Dell").first.click()
        page.wait_for_load_state()
        expect(page.get_by_role("heading", name="$6,000 at Dell", exact=True)).to_be_visible()
        expect(page.locator(".story")).to_contain_text("reversed by Credit of $6,000 from Dell (reversal)")
        assert ZONED_TIME.search(page.locator(".story").inner_text())
        looks_right(page, "transaction", width)

        page.goto(f"{base}/admin/ledger/transaction/")
        page.locator("#result_list a", has_text="Hilton").first.click()
        page.get_by_role("button", name="Reverse this spend…").click()
        page.wait_for_load_state()
        expect(page.locator("#content")).to_contain_text("$310 at Hilton on ")
        expect(page.get_by_label("Reason")).to_be_visible()
        looks_right(page, "reverse", width)

        page.goto(f"{base}/admin/budgets/budgetperiod/")
        choose_action(page, "Engineering", "set_limit")
        expect(page.get_by_label("Limit")).to_be_visible()
        looks_right(page, "set-limit", width)

        page.goto(f"{base}/admin/approvals/approvalrequest/")
        expect(page.locator("#result_list")).to_contain_text("$12,500")
        looks_right(page, "approvals", width)
        page.locator("#result_list tbody tr", has_text="Apple").locator("th a").click()
        page.wait_for_load_state()
        expect(page.locator("#content")).to_contain_text("Step 1 of 1: finance manager")
        looks_right(page, "approval", width)

        page.goto(f"{base}/admin/fraud/fraudalert/")
        choose_action(page, "Duplicate charge", "resolve_fraud")
        expect(page.locator("#content")).to_contain_text("Duplicate charge on $310 at Hilton")
        looks_right(page, "fraud-review", width)

        page.goto(f"{base}/admin/reconciliation/statementimport/")
        page.get_by_role("link", name="Reconcile").first.click()
        page.wait_for_load_state()
        expect(page.locator("#content")).to_contain_text("ICLOUD")
        looks_right(page, "reconciliation", width)

        page.goto(f"{base}/finance/")
        alerts = page.locator("#fraud-alerts")
        expect(alerts).to_contain_text("Duplicate charge")
        expect(alerts.get_by_role("link", name="Review the spend")).to_be_visible()
        assert ZONED_TIME.search(alerts.inner_text())
        for column in ("Amount", "Status"):  # the pages' tables keep them in sight at either width
            cell = page.locator(f"#recent-transactions td[data-label={column}]").first
            expect(cell).to_be_visible()
            assert cell.bounding_box()["x"] + cell.bounding_box()["width"] <= viewport["width"]
        check_accessible(page)
        check_fits_the_screen(page)
        assert not UUID_OR_SHORT_ID.search(alerts.inner_text())
        screenshot(page, f"back-office-fraud-panel-{width}")
        context.close()
