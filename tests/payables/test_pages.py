"""Vendor payments in the back office and on the vendor payments page: a second person approves a change
of payment details, a run is drafted, released and its bank file downloaded as it was written; a bill's GL
lines shown; the bank's return file uploaded in the back office.

transaction=True: bills are settled and runs released for real.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.ledger.chart import chart_ensure
from apps.ledger.models import GLAccount
from apps.payables import bills, payment_runs, vendors
from apps.payables.bank_details import bank_details_validate
from apps.payables.models import PayingAccount, PaymentRun, ReturnFile, VendorBankChange
from tests.factories import login_verified
from tests.payables.bills import bill_submit, invoice_file, local_today
from tests.payables.return_files import nacha_return_file
from tests.payables.vendors import paying_account, vendor_paid_by
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_a_bank_change_is_approved_in_the_back_office_only_by_someone_else(tenant):
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    change = vendors.vendor_bank_change_request(
        actor=tenant.finance,
        vendor_id=vendor.id,
        details=bank_details_validate(rail="ach", routing_number="021000021", account_number="55501234"),
    )
    action = {"action": "approve", ACTION_CHECKBOX_NAME: [str(change.id)]}
    logged_in(tenant.finance).post("/admin/payables/vendorbankchange/", action)
    assert VendorBankChange.objects.get(id=change.id).status == "pending"
    logged_in(tenant.admin).post("/admin/payables/vendorbankchange/", action)
    assert VendorBankChange.objects.get(id=change.id).status == "approved"
    listing = logged_in(tenant.finance).get("/admin/payables/vendor/").content.decode()
    assert "ACH 021000021 / …1234" in listing


def test_finance_drafts_releases_and_downloads_a_run_on_the_page_and_in_the_back_office(tenant, other_tenant):
    paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill_submit(tenant.finance, vendor, "120.00", number="B-77", due_in_days=5)
    settle_all(tenant.organization)
    finance = logged_in(tenant.finance)

    page = finance.get("/finance/payments/").content.decode()
    assert "B-77" in page and "$120 (1 bill)" in page
    form = {
        "paying_account": str(PayingAccount.objects.get().id),
        "due_until": str(local_today(tenant.organization) + timedelta(days=14)),
        "execution_date": str(local_today(tenant.organization) + timedelta(days=1)),
    }
    assert finance.post("/finance/payments/runs", form).status_code == 302
    run = PaymentRun.objects.get()
    assert run.reference in finance.get("/finance/payments/").content.decode()

    finance.post("/admin/payables/paymentrun/", {"action": "release", ACTION_CHECKBOX_NAME: [str(run.id)]})
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.RELEASED
    for path in (f"/admin/payables/paymentrun/{run.id}/file", f"/finance/payments/runs/{run.id}/file"):
        download = finance.get(path)
        assert download.status_code == 200 and download.content == bytes(run.file_content)
    assert logged_in(other_tenant.finance).get(f"/finance/payments/runs/{run.id}/file").status_code == 404
    assert logged_in(tenant.employee).get("/finance/payments/").status_code == 403


def test_the_page_says_when_an_account_is_on_a_schedule(tenant):
    account = paying_account(tenant, "ach")
    finance = logged_in(tenant.finance)
    assert "On a schedule" not in finance.get("/finance/payments/").content.decode()
    vendors.paying_account_schedule_set(actor=tenant.finance, account_id=account.id, due_within_days=7)
    assert "the bills due within\n      7 days are drafted" in finance.get("/finance/payments/").content.decode()


def test_a_bills_gl_lines_show_on_the_page_and_a_return_file_is_uploaded_in_the_back_office(tenant, other_tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    chart_ensure(organization=tenant.organization)
    software, cloud = (GLAccount.objects.get(organization=tenant.organization, code=c) for c in ("6200", "6210"))
    today = local_today(tenant.organization)
    bills.bill_submit(
        user=tenant.finance,
        idempotency_key="split",
        vendor_id=vendor.id,
        invoice_number="B-88",
        amount="120.00",
        currency="USD",
        bill_date=today,
        due_date=today + timedelta(days=5),
        department_id=None,
        description="",
        invoice=invoice_file(),
        lines=[bills.BillLineInput(software.id, "100.00", "Seats"), bills.BillLineInput(cloud.id, "20.00")],
    )
    settle_all(tenant.organization)
    finance = logged_in(tenant.finance)
    assert "6200 $100 (Seats); 6210 $20" in finance.get("/finance/payments/").content.decode()
    assert "6200 $100, 6210 $20" in finance.get("/admin/payables/bill/").content.decode()

    run = payment_runs.payment_run_create(
        actor=tenant.finance, paying_account_id=account.id, due_until=today + timedelta(days=5), execution_date=today
    )
    [line] = payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id).lines.all()
    upload = SimpleUploadedFile("returns.ach", nacha_return_file([(line.trace_number, "R03", 12_000)]))
    assert logged_in(tenant.employee).post("/admin/payables/returnfile/upload/", {"file": upload}).status_code in (
        302,
        403,
    )
    assert not ReturnFile.objects.exists()
    upload.seek(0)
    response = finance.post("/admin/payables/returnfile/upload/", {"file": upload})
    return_file = ReturnFile.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{return_file.id}/change/")
    line.refresh_from_db()
    assert line.return_file == return_file and line.return_reason == "NACHA return R03"
    upload.seek(0)
    again = finance.post("/admin/payables/returnfile/upload/", {"file": upload}).content.decode()
    assert "uploaded on" in again and ReturnFile.objects.count() == 1
    assert logged_in(other_tenant.finance).get(f"/admin/payables/returnfile/{return_file.id}/change/").status_code in (
        302,
        404,
    )
