"""The pages in Debian's Chromium, driven by Playwright, against a live server and a real settlement worker.

Each page is checked with axe-core (WCAG 2.1 A and AA: contrast, names, labels) and photographed
into var/screenshots/, or into LEDGERX_SCREENSHOTS_DIR: `make screenshots` refreshes the ones in
docs/screenshots/ that the README shows, so that a test run leaves the tracked files alone.
"""

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from apps.approvals.services import approval_policy_create
from apps.audit.models import AuditEvent
from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Transaction
from apps.ledger.selectors import ledger_verify
from apps.system.demo import DEMO_PASSWORD, seed_demo
from apps.tenancy import mfa
from apps.tenancy.models import Department, Organization, User
from apps.tenancy.services import department_set_head
from tests.factories import recovery_code_for
from tests.spends import spend_submit

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LEDGERX_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SETTLED_WITHIN_MS = 30_000
REFRESH_WITHIN_MS = 30_000  # the dashboard refreshes every 10 s

pytestmark = [
    pytest.mark.browser,
    # Decided before any fixture starts a server; `make chromium` installs it, or says it could not.
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"no Chromium at {CHROMIUM}: the browser tests need Debian's (as root: apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an asyncio loop in this thread, and Django refuses ORM calls where a
    loop runs. The test's own setup and the database flush are plain synchronous code, so allow them."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def second_factor_ahead(user) -> str | None:
    """A recovery code for a user whose role signs in with a second factor (enrolling them first)."""
    return recovery_code_for(user) if mfa.mfa_required(user) else None


def prove_second_factor(page, code: str | None) -> None:
    """The step after the password, as a person takes it: the code typed on the verification page."""
    if code is None:
        return
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()


class Session:
    def __init__(self, browser, live_server, email: str, viewport: dict = DESKTOP) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.base = live_server.url
        code = second_factor_ahead(User.objects.get(email=email))
        self.page.goto(f"{self.base}/login/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()
        prove_second_factor(self.page, code)

    def open(self, path: str):
        response = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")
        return response

    def close(self) -> None:
        self.context.close()


def check_accessible(page) -> None:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
            return result.violations.map(
                v => `${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).slice(0, 3)}`);
        }"""
    )
    assert violations == []


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def check_fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def submit_spend(page, amount: str, merchant: str, category: str) -> None:
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("Merchant").fill(merchant)
    page.get_by_label("Category").fill(category)
    page.get_by_role("button", name="Submit spend").click()


@pytest.mark.django_db(transaction=True)  # the live server and the worker see only committed rows
def test_techcorp_in_the_browser(browser, live_server, settlement_worker):
    seed_demo(history=False)
    carol = User.objects.get(email="carol@techcorp.com")
    for amount, merchant, category in [
        ("1200.00", "Salesforce", "software"),
        ("860.40", "Delta", "travel"),
        ("310.00", "Hilton", "travel"),
        ("95.00", "Blue Bottle", "meals"),
    ]:
        spend_submit(user=carol, amount=amount, merchant=merchant, category=category)

    login = browser.new_page(viewport=DESKTOP)
    login.goto(f"{live_server.url}/login/")
    check_accessible(login)
    screenshot(login, "login")
    login.close()

    alice = Session(browser, live_server, "alice@techcorp.com")
    expect(alice.page.get_by_role("heading", name="My spend")).to_be_visible()
    submit_spend(alice.page, "6000.00", "Dell", "equipment")
    result = alice.page.locator("#spend-result")
    expect(result).to_contain_text("Posted", timeout=SETTLED_WITHIN_MS)
    expect(result).to_contain_text("$6,000 at Dell")
    expect(alice.page.locator("#budget-panel")).to_contain_text("$6,000 of $50,000 spent")
    expect(alice.page.locator("#own-transactions")).to_contain_text("Dell")
    check_accessible(alice.page)
    screenshot(alice.page, "employee-home")

    bob = Session(browser, live_server, "bob@techcorp.com")
    submit_spend(bob.page, "48000.00", "Apple", "equipment")
    expect(bob.page.locator("#spend-result")).to_contain_text(
        "Department 'Engineering' budget exceeded. Limit: $50,000, "
        "Current (spent plus held): $6,000, Requested: $48,000",
        timeout=SETTLED_WITHIN_MS,
    )
    expect(bob.page.locator("#spend-result")).to_contain_text("Rejected")
    expect(bob.page.locator("#own-transactions")).to_contain_text("Requested: $48,000")
    screenshot(bob.page, "employee-rejected")
    bob.close()

    finance = Session(browser, live_server, "finance@techcorp.com")
    expect(finance.page).to_have_url(f"{live_server.url}/finance/")
    engineering = finance.page.locator(".budget-card", has_text="Engineering")
    expect(engineering).to_contain_text("$6,000 of $50,000 spent")
    expect(finance.page.locator(".budget-card", has_text="Sales")).to_contain_text("of $25,000 spent")
    expect(finance.page.locator("#recent-transactions")).to_contain_text("alice@techcorp.com")
    expect(finance.page.locator("#top-merchants")).to_contain_text("Dell")
    expect(finance.page.locator("#fraud-alerts")).to_contain_text("No open alerts")
    finance.page.get_by_label("Question in plain language").fill("Show me top expenses this month")
    finance.page.get_by_role("button", name="Ask").click()
    expect(finance.page.locator("#nlq-answer")).to_contain_text("answered by rules")
    expect(finance.page.locator("#nlq-answer")).to_contain_text("Dell")
    expect(finance.page.locator("#nlq-answer")).to_contain_text("Posted expenses, this month")
    expect(finance.page.locator("#nlq-answer")).not_to_contain_text("null")
    check_accessible(finance.page)
    screenshot(finance.page, "finance-dashboard")
    # A name the organization does not have: refused with the closest, and three questions to try.
    finance.page.get_by_label("Question in plain language").fill("How much did we spend on travl this month?")
    finance.page.get_by_role("button", name="Ask").click()
    answer = finance.page.locator("#nlq-answer")
    expect(answer).to_contain_text("No category 'travl'. Did you mean travel?")
    expect(answer.locator("[data-example]")).to_have_count(3)
    finance.page.get_by_label("Question in plain language").fill("spend by category this month")
    finance.page.get_by_role("button", name="Ask").click()
    expect(answer).to_contain_text("Total posted spend, per category, this month")
    expect(answer.locator("canvas")).to_have_count(1)
    expect(answer).to_contain_text("$6,000")
    check_accessible(finance.page)
    screenshot(finance.page, "finance-question-breakdown")

    finance.page.evaluate("window.sameDocument = true")
    spend_submit(user=carol, amount="420.00", merchant="Lufthansa", category="travel")
    expect(finance.page.locator("#recent-transactions")).to_contain_text("Lufthansa", timeout=REFRESH_WITHIN_MS)
    expect(finance.page.locator("#top-merchants")).to_contain_text("Lufthansa")
    assert finance.page.evaluate("window.sameDocument === true")  # refreshed in place, not reloaded

    finance.open("/admin/ledger/transaction/")
    expect(finance.page.locator("#result_list")).to_contain_text("Dell")
    screenshot(finance.page, "admin-transactions")
    finance.close()

    globex = Session(browser, live_server, "finance@globex.com")
    expect(globex.page.locator(".budget-card", has_text="Research")).to_be_visible()
    seen = globex.page.locator("main").inner_text()
    for techcorp in ("TechCorp", "Engineering", "Sales", "Dell", "alice@techcorp.com", "$6,000"):
        assert techcorp not in seen
    globex.open("/admin/ledger/transaction/")
    assert "Dell" not in globex.page.locator("#content").inner_text()
    globex.close()

    assert alice.open("/finance/").status == 403
    expect(alice.page.get_by_role("heading", name="This page is not for your role")).to_be_visible()
    alice.open("/admin/")
    expect(alice.page.locator("#content")).to_contain_text("not authorized to access this page")
    alice.close()

    root = Session(browser, live_server, "root@ledgerx.local")
    expect(root.page).to_have_url(f"{live_server.url}/system/")
    expect(root.page.locator("#workers")).to_contain_text("Alive")
    expect(root.page.locator("#pg-health")).to_contain_text("Healthy")
    expect(root.page.locator("#redis-health")).to_contain_text("Healthy")
    check_accessible(root.page)
    screenshot(root.page, "system-internals")
    root.close()


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_pages_fit_a_phone(browser, live_server):
    seed_demo(history=False)
    alice = Session(browser, live_server, "alice@techcorp.com", viewport=PHONE)
    check_fits_the_screen(alice.page)
    check_accessible(alice.page)
    screenshot(alice.page, "employee-phone")
    alice.close()

    finance = Session(browser, live_server, "finance@techcorp.com", viewport=PHONE)
    check_fits_the_screen(finance.page)
    screenshot(finance.page, "finance-phone")
    finance.close()

    root = Session(browser, live_server, "root@ledgerx.local", viewport=PHONE)
    check_fits_the_screen(root.page)
    check_accessible(root.page)
    root.close()


@pytest.mark.django_db(transaction=True)  # the live server and the worker see only committed rows
def test_a_large_spend_waits_for_the_head_then_finance_and_is_posted(browser, live_server, settlement_worker):
    seed_demo(history=False)
    techcorp = Organization.objects.get(slug="techcorp")
    engineering = Department.objects.of(techcorp).get(name="Engineering")
    department_set_head(actor=None, department=engineering, head=User.objects.get(email="bob@techcorp.com"))
    approval_policy_create(
        organization=techcorp,
        name="Large spend",
        min_amount_minor=500_000,
        levels=["department_head", "finance_manager"],
    )

    alice = Session(browser, live_server, "alice@techcorp.com")
    submit_spend(alice.page, "6000.00", "Dell", "equipment")
    result = alice.page.locator("#spend-result")
    expect(result).to_contain_text("Awaiting approval", timeout=SETTLED_WITHIN_MS)
    expect(result).to_contain_text("held from your department's budget")
    expect(alice.page.locator("#budget-panel")).to_contain_text("$0 of $50,000 spent, $6,000 held for approval")
    expect(alice.page.locator("#own-transactions")).to_contain_text("Awaiting approval")

    bob = Session(browser, live_server, "bob@techcorp.com", viewport=PHONE)
    bob.page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    card = bob.page.locator("article.approval", has_text="$6,000 at Dell")
    expect(card).to_contain_text("Step 1 of 2: department head")
    expect(card).to_contain_text("alice@techcorp.com")
    check_fits_the_screen(bob.page)
    check_accessible(bob.page)
    card.get_by_label("Note").fill("Laptops for the new hires")
    card.get_by_role("button", name="Approve").click()
    expect(bob.page.locator(".approval-done")).to_contain_text("It now waits for the finance manager (step 2 of 2).")
    expect(bob.page.locator("#waiting-count")).to_have_text("(0)")
    bob.close()

    finance = Session(browser, live_server, "finance@techcorp.com")
    engineering_card = finance.page.locator(".budget-card", has_text="Engineering")
    expect(engineering_card).to_contain_text("$6,000 held for approval")
    finance.open("/approvals/")
    card = finance.page.locator("article.approval", has_text="$6,000 at Dell")
    expect(card).to_contain_text("Step 2 of 2: finance manager")
    expect(card).to_contain_text("Step 1: approved by bob@techcorp.com — “Laptops for the new hires”")
    check_accessible(finance.page)
    screenshot(finance.page, "approvals")

    card.get_by_role("button", name="Reject").click()
    expect(card.locator(".field-error")).to_contain_text("Say why the spend is rejected")
    expect(card.get_by_label("Note")).to_have_attribute("aria-invalid", "true")
    check_accessible(finance.page)
    card.get_by_role("button", name="Approve").click()
    outcome = finance.page.locator(".approval-done")
    expect(outcome).to_contain_text("Approved")
    expect(outcome).to_contain_text("The spend is posted to the ledger.")
    expect(finance.page.locator("#approvals-decided")).to_contain_text("Dell")  # refreshed in place
    expect(finance.page.locator("#approvals-decided")).to_contain_text("Step 2: approved by finance@techcorp.com")
    finance.close()

    alice.open("/")
    expect(alice.page.locator("#own-transactions")).to_contain_text("Posted")
    expect(alice.page.locator("#budget-panel")).to_contain_text("$6,000 of $50,000 spent")
    alice.close()
    assert Transaction.objects.get(merchant="Dell").status == Transaction.Status.POSTED
    assert ledger_verify()["ok"]


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_finance_sets_sales_limit_in_the_back_office_in_the_first_hour_of_a_month(browser, live_server):
    """The demo was made in March; on 1 April, 00:20 in New York, nothing is spent yet and no rollover has run
    since: Sales' April period is open all the same (opened ahead of time), so finance can set its limit."""
    with time_machine.travel(datetime(2027, 3, 15, 14, 0, tzinfo=UTC), tick=False):
        seed_demo(history=False)
    april = date(2027, 4, 1)
    sales = Department.objects.get(organization__slug="techcorp", name="Sales")
    assert not Transaction.objects.filter(budget_month=april).exists()

    with time_machine.travel(datetime(2027, 4, 1, 4, 20, tzinfo=UTC)):
        finance = Session(browser, live_server, "finance@techcorp.com")
        finance.open("/admin/budgets/budgetperiod/?month__gte=2027-04-01&month__lt=2027-05-01")
        row = finance.page.locator("#result_list tbody tr", has_text="Sales")
        expect(row).to_contain_text("2027-04")
        expect(row).to_contain_text("$25,000")
        row.locator("input.action-select").check()
        finance.page.locator("select[name=action]").select_option("set_limit")
        finance.page.get_by_role("button", name="Go").click()
        finance.page.get_by_label("Limit").fill("30000.00")
        finance.page.get_by_role("button", name="Set limit").click()
        expect(finance.page.locator(".messagelist")).to_contain_text("the limit is now $30,000")
        finance.open("/finance/")
        expect(finance.page.locator(".budget-card", has_text="Sales")).to_contain_text("$0 of $30,000 spent")
        finance.close()

    period = BudgetPeriod.objects.get(department=sales, month=april)
    assert (period.limit_minor, period.spent_minor, period.held_minor) == (3_000_000, 0, 0)
    event = AuditEvent.objects.get(action=AuditEvent.Action.BUDGET_LIMIT_SET, target_id=str(period.pk))
    assert event.actor_email == "finance@techcorp.com"
    assert (event.before["limit_minor"], event.after["limit_minor"]) == (2_500_000, 3_000_000)
