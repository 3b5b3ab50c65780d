"""The vendor payments API end to end: a vendor and its details approved by a second person, a bill with its
invoice, a run drafted, released and its file downloaded, a payment returned; a bill's GL lines, the bank's
return files; and what it refuses."""

import base64
import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditChange
from apps.ledger.chart import chart_ensure
from apps.ledger.models import GLAccount
from apps.ledger.selectors import ledger_verify
from apps.payables.models import Bill
from tests.payables.bills import invoice_file, local_today
from tests.payables.return_files import nacha_return_file
from tests.payables.vendors import paying_account, vendor_paid_by
from tests.security.tenant_objects import released_payment_run, return_file
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def _bill_body(tenant, vendor_id, number: str = "INV-1", amount: str = "250.00") -> dict:
    today = local_today(tenant.organization)
    return {
        "vendor": str(vendor_id),
        "invoice_number": number,
        "amount": amount,
        "currency": "USD",
        "bill_date": str(today),
        "due_date": str(today + timedelta(days=7)),
        "invoice": invoice_file(),
    }


def test_a_vendor_is_paid_through_the_api_from_bill_to_file_and_back(api, tenant):
    finance, admin = api(tenant.finance), api(tenant.admin)
    account = paying_account(tenant, "ach")
    created = finance.post(
        "/api/v1/vendors",
        {
            "legal_name": "Boston Tools Inc",
            "default_department": str(tenant.department.id),
            "bank_details": {"rail": "ach", "routing_number": "011000015", "account_number": "123456789"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    vendor = created.json()
    assert vendor["payment_details"] == "" and vendor["pending_bank_change"]
    change_path = f"/api/v1/vendor-bank-changes/{vendor['pending_bank_change']}/decision"
    assert _error(finance.post(change_path, {"approve": True}, format="json"), 403)
    decided = admin.post(change_path, {"approve": True}, format="json")
    assert decided.json()["status"] == "approved"
    assert finance.get(f"/api/v1/vendors/{vendor['id']}").json()["payment_details"] == "ACH 011000015 / …6789"
    # Where the money goes is in the audit change log, with who changed it.
    change = AuditChange.objects.get(table_name="payables_vendor", operation="UPDATE", row_id=vendor["id"])
    assert change.actor_user_id == tenant.admin.id
    assert change.after["routing_number"] == "011000015"

    submitted = finance.post(
        "/api/v1/bills", _bill_body(tenant, vendor["id"]), format="multipart", HTTP_IDEMPOTENCY_KEY="bill-1"
    )
    assert submitted.status_code == 202, submitted.content
    assert submitted.json()["status"] == "submitted"
    duplicate = finance.post(
        "/api/v1/bills", _bill_body(tenant, vendor["id"], "inv 1"), format="multipart", HTTP_IDEMPOTENCY_KEY="bill-2"
    )
    assert "Duplicate bill" in _error(duplicate, 409)["message"]
    settle_all(tenant.organization)
    bill = finance.get(f"/api/v1/bills/{submitted.json()['id']}").json()
    assert bill["status"] == "approved"

    today = local_today(tenant.organization)
    preview = finance.get("/api/v1/payment-runs/preview", {"due_until": str(today + timedelta(days=7))}).json()
    assert preview["accounts"][0]["total"] == "250.00" and preview["held"] == []
    drafted = finance.post(
        "/api/v1/payment-runs",
        {
            "paying_account": str(account.id),
            "due_until": str(today + timedelta(days=7)),
            "execution_date": str(today + timedelta(days=1)),
        },
        format="json",
    )
    assert drafted.status_code == 201, drafted.content
    run_path = f"/api/v1/payment-runs/{drafted.json()['id']}"
    assert _error(finance.get(f"{run_path}/file"), 409)
    released = finance.post(f"{run_path}/release")
    assert released.status_code == 200 and released.json()["status"] == "released"
    download = finance.get(f"{run_path}/file")
    assert download.status_code == 200
    digest = base64.b64encode(hashlib.sha256(download.content).digest()).decode()
    assert download["Repr-Digest"] == f"sha-256=:{digest}:"
    assert finance.get(f"/api/v1/bills/{bill['id']}").json()["status"] == "paid"

    [line] = released.json()["lines"]
    returned = finance.post(f"/api/v1/payments/{line['id']}/return", {"reason": "R02 Account closed"}, format="json")
    assert returned.status_code == 200, returned.content
    assert finance.get(f"/api/v1/bills/{bill['id']}").json()["status"] == "returned"
    assert _error(finance.post(f"/api/v1/payments/{line['id']}/return", {"reason": "again"}, format="json"), 409)
    assert ledger_verify()["ok"]


def test_employees_cannot_and_another_tenants_ids_are_not_found(api, tenant, other_tenant):
    vendor = vendor_paid_by(other_tenant)
    assert _error(api(tenant.employee).get("/api/v1/vendors"), 403)
    assert _error(api(tenant.finance).get(f"/api/v1/vendors/{vendor.id}"), 404)
    response = api(tenant.finance).post(
        "/api/v1/bills", _bill_body(tenant, vendor.id), format="multipart", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert _error(response, 404)
    assert _error(api(tenant.finance).get(f"/api/v1/payment-runs/{uuid.uuid4()}"), 404)


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"rail": "sepa", "iban": "DE89370400440532013001"}, "iban"),
        ({"rail": "ach", "routing_number": "011000016", "account_number": "12345"}, "routing_number"),
        ({"rail": "ach", "routing_number": "011000015"}, "account_number"),
    ],
)
def test_bad_payment_details_are_refused_by_name_and_nothing_is_written(api, tenant, details, field):
    response = api(tenant.finance).post(
        "/api/v1/vendors", {"legal_name": "Bad Bank Ltd", "bank_details": details}, format="json"
    )
    assert field in _error(response, 400)["fields"]
    assert api(tenant.finance).get("/api/v1/vendors").json() == []


def test_a_bill_without_its_invoice_is_refused(api, tenant):
    vendor = vendor_paid_by(tenant)
    body = _bill_body(tenant, vendor.id)
    body.pop("invoice")
    response = api(tenant.finance).post("/api/v1/bills", body, format="multipart", HTTP_IDEMPOTENCY_KEY="k")
    assert "invoice" in _error(response, 400)["fields"]


def test_a_paying_account_is_put_on_a_schedule_and_off_it_again(api, tenant, other_tenant):
    account = paying_account(tenant, "ach")
    url = f"/api/v1/paying-accounts/{account.id}"
    response = api(tenant.finance).patch(url, {"scheduled_due_within_days": 7}, format="json")
    assert response.status_code == 200 and response.json()["scheduled_due_within_days"] == 7
    listed = api(tenant.finance).get("/api/v1/paying-accounts").json()
    assert [a["scheduled_due_within_days"] for a in listed] == [7]
    assert (
        api(tenant.finance)
        .patch(url, {"scheduled_due_within_days": None}, format="json")
        .json()["scheduled_due_within_days"]
        is None
    )

    assert _error(api(tenant.employee).patch(url, {"scheduled_due_within_days": 7}, format="json"), 403)
    elsewhere = paying_account(other_tenant, "ach")
    missing = api(tenant.finance).patch(
        f"/api/v1/paying-accounts/{elsewhere.id}", {"scheduled_due_within_days": 7}, format="json"
    )
    assert _error(missing, 404)


@pytest.mark.parametrize("days", [-1, 91, "7", 7.5, True])
def test_a_schedule_out_of_range_or_not_a_whole_number_is_refused_and_nothing_changes(api, tenant, days):
    account = paying_account(tenant, "ach")
    response = api(tenant.finance).patch(
        f"/api/v1/paying-accounts/{account.id}", {"scheduled_due_within_days": days}, format="json"
    )
    assert "scheduled_due_within_days" in _error(response, 400)["fields"]
    account.refresh_from_db()
    assert account.scheduled_due_within_days is None


@pytest.mark.django_db  # entered, never settled: no transaction of its own needed
def test_a_bills_gl_lines_are_entered_and_read_through_the_api_and_bad_ones_refused(api, tenant, other_tenant):
    finance = api(tenant.finance)
    vendor = vendor_paid_by(tenant)
    chart_ensure(organization=tenant.organization)
    chart_ensure(organization=other_tenant.organization)
    software, cloud = (GLAccount.objects.get(organization=tenant.organization, code=c) for c in ("6200", "6210"))
    elsewhere = GLAccount.objects.get(organization=other_tenant.organization, code="6200")

    def submit(lines, key: str, user=tenant.finance):
        body = {**_bill_body(tenant, vendor.id, number=key, amount="100.00"), "lines": json.dumps(lines)}
        return api(user).post("/api/v1/bills", body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)

    split = [
        {"gl_account": str(software.id), "amount": "70.00", "description": "Seats"},
        {"gl_account": str(cloud.id), "amount": "30.00"},
    ]
    submitted = submit(split, "lines-1")
    assert submitted.status_code == 202, submitted.content
    read = finance.get(f"/api/v1/bills/{submitted.json()['id']}").json()
    assert [(line["gl_code"], line["amount"], line["description"]) for line in read["lines"]] == [
        ("6200", "70.00", "Seats"),
        ("6210", "30.00", ""),
    ]

    assert "lines" in _error(submit([{**split[0], "amount": "69.99"}, split[1]], "lines-2"), 400)["fields"]
    assert "lines" in _error(submit([{**split[0], "cost_centre": "X"}, split[1]], "lines-3"), 400)["fields"]
    assert "lines" in _error(submit([], "lines-4"), 400)["fields"]
    assert _error(submit([{"gl_account": str(elsewhere.id), "amount": "100.00"}], "lines-5"), 404)
    assert _error(submit(split, "lines-6", user=tenant.employee), 403)
    assert Bill.objects.count() == 1


def test_a_return_file_is_uploaded_once_through_the_api_and_read_back(api, tenant, other_tenant):
    finance = api(tenant.finance)
    run = released_payment_run(tenant)
    [line] = run.lines.all()
    content = nacha_return_file([(line.trace_number, "R02", line.amount_minor)])

    uploaded = finance.post(
        "/api/v1/payment-return-files", {"file": SimpleUploadedFile("r.ach", content)}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["outcomes"] == [
        {"reference": line.trace_number, "reason": "NACHA return R02", "outcome": "returned", "payment": line.id}
    ]
    run_read = finance.get(f"/api/v1/payment-runs/{run.id}").json()
    assert run_read["lines"][0]["return_file"] == uploaded.json()["id"]
    again = finance.post(
        "/api/v1/payment-return-files", {"file": SimpleUploadedFile("r2.ach", content)}, format="multipart"
    )
    assert "uploaded on" in _error(again, 409)["message"]
    bad = finance.post(
        "/api/v1/payment-return-files", {"file": SimpleUploadedFile("x.txt", b"hello")}, format="multipart"
    )
    assert "file" in _error(bad, 400)["fields"]
    assert [f["id"] for f in finance.get("/api/v1/payment-return-files").json()] == [uploaded.json()["id"]]
    assert finance.get(f"/api/v1/payment-return-files/{uploaded.json()['id']}").status_code == 200

    assert _error(api(tenant.employee).get("/api/v1/payment-return-files"), 403)
    elsewhere = return_file(other_tenant)
    assert _error(finance.get(f"/api/v1/payment-return-files/{elsewhere.id}"), 404)
    assert ledger_verify()["ok"]
