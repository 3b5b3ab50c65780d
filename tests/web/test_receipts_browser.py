"""In Debian's Chromium at a phone's width: an employee attaches a photo of a receipt to a spend and
sees its thumbnail, made by a real Celery worker behind a live server."""

import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.receipts.models import ReadingStatus, Receipt
from tests.controls.conftest import rule
from tests.factories import PASSWORD
from tests.receipts.conftest import photo_jpeg, printed_receipt, upload
from tests.spends import settle_all, spend_submit
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
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

THUMBNAIL_WITHIN_MS = 30_000
READ_WITHIN_SECONDS = 90


def _logged_in(chromium, live_server, user, viewport):
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    code = second_factor_ahead(user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    prove_second_factor(page, code)
    return context, page


@pytest.mark.django_db(transaction=True)  # the live server and the worker see only committed rows
def test_an_employee_attaches_a_receipt_from_a_phone_and_sees_its_thumbnail(
    browser,  # noqa: F811
    live_server,
    settlement_worker,
    tenant,
    tmp_path,
):
    rule(tenant, "receipt_required_above", amount_minor=5_000)
    spend_submit(tenant.employee, "84.50", merchant="Hilton", category="travel")
    settle_all(tenant.organization)
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(photo_jpeg(size=(1200, 900), orientation=6))  # stored sideways, as phones do

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(tenant.employee.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    banner = page.locator("#missing-receipts")
    expect(banner).to_contain_text("Receipts missing (1)")
    check_accessible(page)
    check_fits_the_screen(page)
    screenshot(page, "receipt-missing-phone")
    banner.get_by_role("link", name="$84.50 at Hilton").click()

    expect(page.get_by_role("heading", name="Receipts", exact=True)).to_be_visible()
    page.get_by_label("Photo or PDF of the receipt").set_input_files(str(photo))
    page.get_by_role("button", name="Attach receipt").click()

    thumbnail = page.get_by_role("img", name="Receipt IMG_0042.jpg")
    expect(thumbnail).to_be_visible(timeout=THUMBNAIL_WITHIN_MS)
    # Drawn, not a broken image: the authorised view served a JPEG the browser decoded, upright.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.naturalHeight > img.naturalWidth",
        arg=thumbnail.element_handle(),
    )
    expect(page.locator("#receipt-list")).to_contain_text("Attached (1)")
    check_fits_the_screen(page)
    check_accessible(page)
    screenshot(page, "receipt-phone")

    page.get_by_role("link", name="Back to my spend").click()
    expect(page.get_by_role("link", name="1 attached: receipts of Hilton $84.50")).to_be_visible()
    expect(banner).to_be_hidden()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_finance_sees_that_a_receipt_disagrees_with_its_spend(
    browser,  # noqa: F811
    live_server,
    settlement_worker,
    tenant,
):
    spend = spend_submit(tenant.employee, "12.40", merchant="Blue Bottle", category="meals")
    settle_all(tenant.organization)
    today = timezone.localdate().isoformat()
    receipt = upload(tenant.employee, spend, printed_receipt(merchant="BLUE BOTTLE", day=today, total="$42.00"))
    # The worker makes the thumbnail, then reads the receipt with Tesseract.
    deadline = time.monotonic() + READ_WITHIN_SECONDS
    while Receipt.objects.get(id=receipt.id).reading_status == ReadingStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.25)
    flag = "The receipt's total is $42; the spend is $12.40."

    context, page = _logged_in(browser, live_server, tenant.finance, {"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/receipts/receipt/?reading=disagrees")
    expect(page.locator("#result_list")).to_contain_text(flag)
    screenshot(page, "admin-receipt-mismatch")
    page.goto(f"{live_server.url}/spends/{spend.id}/receipts")
    expect(page.locator(".receipt-mismatch")).to_have_text(f"⚠ {flag}")
    check_accessible(page)
    context.close()
