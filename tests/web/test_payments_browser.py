"""In Debian's Chromium: a vendor's bill is approved on the approvals page, then paid in a payment run on
the vendor payments page, and the pain.001 file downloaded validates against the official XSD."""

from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sepaxml
import xmlschema
from playwright.sync_api import expect

from apps.approvals.services import approval_policy_create
from apps.ledger.models import Account, Entry
from apps.ledger.selectors import ledger_verify
from apps.payables.models import PaymentRun
from tests.factories import PASSWORD
from tests.payables.bills import bill_submit, local_today
from tests.payables.conftest import EuroTenant
from tests.payables.vendors import paying_account, vendor_paid_by
from tests.spends import settle_all
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

PAIN_XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
def test_finance_pays_an_approved_bill_in_a_run_and_downloads_a_valid_pain001(browser, live_server, tmp_path):  # noqa: F811
    tenant = EuroTenant("Eurobolt")
    approval_policy_create(
        organization=tenant.organization, name="Bills", min_amount_minor=100_000, levels=["finance_manager"]
    )
    account = paying_account(tenant, "sepa")
    vendor = vendor_paid_by(tenant)
    bill_submit(tenant.finance, vendor, "1500.00", number="INV-7781", due_in_days=10)
    settle_all(tenant.organization)

    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    code = second_factor_ahead(tenant.admin)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(tenant.admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    prove_second_factor(page, code)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    card = page.locator("article.approval", has_text="Bolt Supplies GmbH")
    expect(card).to_contain_text("€1,500")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".approval-done")).to_contain_text("Approved")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Vendor payments").click()
    due = page.locator("article.payment-account", has_text="Operating EUR")
    expect(due).to_contain_text("€1,500 (1 bill)")
    expect(due).to_contain_text("INV-7781")
    check_accessible(page)
    due.get_by_role("button", name="Draft payment run from Operating EUR").click()

    run = PaymentRun.objects.get(organization=tenant.organization)
    draft = page.locator(f"#run-{run.reference}")
    expect(draft).to_contain_text("Bolt Supplies GmbH: €1,500 (IBAN DE89370400440532013000)")
    check_accessible(page)
    screenshot(page, "payment-run-draft")
    draft.get_by_role("button", name=f"Release {run.reference}").click()

    released = page.locator("#released-runs")
    expect(released).to_contain_text(run.reference)
    with page.expect_download() as download_info:
        released.get_by_role("link", name=f"{run.reference}.pain.001.xml").click()
    path = tmp_path / "run.xml"
    download_info.value.save_as(path)
    screenshot(page, "payment-run-released")
    context.close()

    content = path.read_bytes()
    run.refresh_from_db()
    assert content == bytes(run.file_content)
    xmlschema.XMLSchema(str(PAIN_XSD)).validate(content.decode())
    document = ElementTree.fromstring(content)
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "1500.00"
    assert document.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == account.iban
    assert sum(Entry.objects.filter(account__kind=Account.Kind.BANK).values_list("amount_minor", flat=True)) == -150_000
    assert run.due_until == local_today(tenant.organization) + timedelta(days=14)
    assert ledger_verify()["ok"]
