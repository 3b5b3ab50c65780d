"""The installable app in Debian's Chromium at a phone's width, against a live server and a real settlement
worker: what makes it installable, and spends recorded without a connection reaching the ledger once.

"Offline" is the browser's own network emulation (Playwright's set_offline, which covers the service
worker too): the server keeps running, the page simply cannot reach it."""

import pytest
from playwright.sync_api import expect

from apps.approvals.services import approval_policy_create
from apps.ledger.models import Transaction
from tests.controls.conftest import rule
from tests.factories import PASSWORD
from tests.push.conftest import b64url
from tests.receipts.conftest import photo_jpeg
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

SETTLED_WITHIN_MS = 30_000


def _phone(chromium, live_server, user):
    """Signed in on a phone, on a page the service worker controls."""
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    code = second_factor_ahead(user)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    prove_second_factor(page, code)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Opened again online under the active worker: controlled, and kept for opening offline.
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    return context, page


OUTBOX_ENTRIES = "LedgerXOutbox.entries(document.getElementById('spend-form').dataset.user)"


def _outbox_keys(page) -> list[str]:
    return page.evaluate(f"async () => (await {OUTBOX_ENTRIES}).map(e => e.key)")


def _fill_spend(page, amount: str, merchant: str, category: str) -> None:
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("Merchant").fill(merchant)
    page.get_by_label("Category").fill(category)


@pytest.mark.django_db(transaction=True)
def test_the_app_meets_the_install_criteria(browser, live_server, tenant):  # noqa: F811
    context, page = _phone(browser, live_server, tenant.employee)
    cdp = context.new_cdp_session(page)
    # Chromium's own verdict, the one its install prompt uses: no error but that Playwright's contexts are
    # incognito ones, where Chromium installs nothing whatever the site.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [error["errorId"] for error in errors] == ["in-incognito"]
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{live_server.url}/manifest.webmanifest"
    assert manifest["errors"] == []
    icons = page.evaluate(
        """async () => {
            const manifest = await (await fetch(document.querySelector('link[rel=manifest]').href)).json();
            return Promise.all(manifest.icons.map(icon => new Promise(resolve => {
                const image = new Image();
                const size = () => `${image.naturalWidth}x${image.naturalHeight}`;
                image.onload = () => resolve([icon.sizes, icon.purpose, size()]);
                image.onerror = () => resolve([icon.sizes, icon.purpose, "broken"]);
                image.src = icon.src;
            })));
        }"""
    )
    assert icons == [["192x192", "any", "192x192"], ["512x512", "any", "512x512"], ["512x512", "maskable", "512x512"]]
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{live_server.url}/sw.js"
    assert page.evaluate("(async () => (await navigator.serviceWorker.ready).scope)()") == f"{live_server.url}/"
    # What an installed app is judged on at 390 px besides: accessible, nothing wider than the screen,
    # a theme colour, a viewport, a language.
    check_accessible(page)
    check_fits_the_screen(page)
    assert page.evaluate("document.querySelector('meta[name=theme-color]').content") == "#1f2937"
    assert "width=device-width" in page.evaluate("document.querySelector('meta[name=viewport]').content")
    assert page.evaluate("document.documentElement.lang") == "en"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_spend_recorded_offline_is_sent_once_when_the_connection_returns(
    browser,  # noqa: F811
    live_server,
    settlement_worker,
    tenant,
    tmp_path,
):
    photo = tmp_path / "IMG_0100.jpg"
    photo.write_bytes(photo_jpeg(size=(900, 1200)))
    context, page = _phone(browser, live_server, tenant.employee)
    expect(page.locator("#budget-panel")).to_contain_text("$0 of $50,000 spent")

    context.set_offline(True)
    _fill_spend(page, "84.50", "Hilton", "travel")
    page.get_by_label("Receipt photo").set_input_files(str(photo))
    page.get_by_role("button", name="Submit spend").click()
    expect(page.locator("#spend-result")).to_contain_text("waiting to send")
    expect(page.locator("#outbox")).to_contain_text("Waiting to send $84.50 at Hilton")
    [key] = _outbox_keys(page)

    page.reload()  # offline: the page and its last-known budget come from the service worker
    expect(page.get_by_role("heading", name="My spend")).to_be_visible()
    expect(page.locator("#budget-panel")).to_contain_text("$0 of $50,000 spent")
    expect(page.locator("#outbox")).to_contain_text("Waiting to send $84.50 at Hilton")
    check_accessible(page)
    check_fits_the_screen(page)
    screenshot(page, "pwa-waiting-to-send")
    assert not Transaction.objects.exists()

    context.set_offline(False)
    expect(page.locator("#outbox")).to_contain_text("Posted $84.50 at Hilton", timeout=SETTLED_WITHIN_MS)
    spend = Transaction.objects.get()
    assert (spend.idempotency_key, spend.status, spend.amount_minor) == (key, Transaction.Status.POSTED, 8_450)
    assert [receipt.original_name for receipt in spend.receipts.all()] == ["IMG_0100.jpg"]
    expect(page.locator("#budget-panel")).to_contain_text("$84.50 of $50,000 spent")
    page.wait_for_function(f"async () => (await {OUTBOX_ENTRIES}).length === 0")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_spend_whose_answer_is_lost_and_is_sent_again_is_one_transaction(
    browser,  # noqa: F811
    live_server,
    settlement_worker,
    tenant,
):
    context, page = _phone(browser, live_server, tenant.employee)
    answers_lost = []

    def reach_the_server_then_lose_the_answer(route):
        route.fetch()  # the server records the spend...
        answers_lost.append(route.request.headers["idempotency-key"])
        route.abort("connectionreset")  # ...and the phone never hears of it

    page.route("**/api/v1/transactions", reach_the_server_then_lose_the_answer)
    _fill_spend(page, "42.00", "Uber", "travel")
    page.get_by_role("button", name="Submit spend").click()
    expect(page.locator("#spend-result")).to_contain_text("waiting to send")
    assert Transaction.objects.count() == 1
    page.unroute("**/api/v1/transactions")

    page.reload()  # the next open sends what is waiting, with its key: a replay, counted as sent
    expect(page.locator("#outbox")).to_contain_text("Posted $42 at Uber", timeout=SETTLED_WITHIN_MS)
    spend = Transaction.objects.get()
    assert answers_lost == [spend.idempotency_key]
    context.close()


@pytest.mark.django_db(transaction=True)
def test_spends_refused_after_coming_back_online_show_their_reasons(
    browser,  # noqa: F811
    live_server,
    settlement_worker,
    tenant,
):
    rule(tenant, "blocked_category", category="gambling")
    context, page = _phone(browser, live_server, tenant.employee)
    context.set_offline(True)
    for amount, merchant, category, shown in [
        ("20.00", "Casino", "gambling", "$20 at Casino"),
        ("60000.00", "Apple", "equipment", "$60,000 at Apple"),
    ]:
        _fill_spend(page, amount, merchant, category)
        page.get_by_role("button", name="Submit spend").click()
        expect(page.locator("#outbox")).to_contain_text(f"Waiting to send {shown}")

    context.set_offline(False)
    refused = page.locator("#outbox li", has_text="Casino")
    expect(refused).to_contain_text("Refused", timeout=SETTLED_WITHIN_MS)
    expect(refused).to_contain_text("gambling")
    rejected = page.locator("#outbox li", has_text="Apple")
    expect(rejected).to_contain_text("Rejected", timeout=SETTLED_WITHIN_MS)
    expect(rejected).to_contain_text("Department 'Engineering' budget exceeded")
    check_accessible(page)
    screenshot(page, "pwa-refused")
    assert list(Transaction.objects.values_list("merchant", "status")) == [("Apple", Transaction.Status.REJECTED)]

    refused.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#outbox")).not_to_contain_text("Casino")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_finance_manager_rejects_a_spend_with_a_note_on_the_phone_and_is_offered_notifications(
    browser,  # noqa: F811
    live_server,
    tenant,
    settings,
):
    settings.PUSH_VAPID_PRIVATE_KEY = b64url(bytes(range(1, 33)))  # a valid P-256 private key, for the offer
    approval_policy_create(
        organization=tenant.organization, name="Big", min_amount_minor=100_000, levels=["finance_manager"]
    )
    spend_submit(tenant.employee, "2500.00", merchant="Dell", category="equipment")
    settle_all(tenant.organization)
    context, page = _phone(browser, live_server, tenant.finance)
    page.goto(f"{live_server.url}/approvals/")
    expect(page.get_by_role("button", name="Notify me of decisions")).to_be_visible()
    card = page.locator("article.approval", has_text="$2,500 at Dell")
    check_accessible(page)
    check_fits_the_screen(page)
    screenshot(page, "pwa-approvals-phone")

    card.get_by_label("Note").fill("Buy it through IT")
    card.get_by_role("button", name="Reject").click()
    expect(page.locator(".approval-done")).to_contain_text("Rejected")
    spend = Transaction.objects.get()
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason.endswith("Buy it through IT")
    context.close()
