"""The employee's "Claim an expense" form and claims list, and finance's payout batches in the back office.

transaction=True: claims are settled and batches released for real.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.ledger.models import Transaction
from apps.reimbursements.models import PayoutBatch
from apps.reimbursements.selectors import local_today
from tests.factories import login_verified
from tests.reimbursements.claims import batch_of, claim_submit, photo_jpeg, receipt_file
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def logged_in(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


# The same photo on every form, so that the same page sent twice is the same claim.
PHOTO = photo_jpeg()


def claim_form(tenant, **changes) -> dict:
    form = {
        "request_id": "6a1f7c3e-0d4b-4a8e-9c21-5f0e8b7d6c11",
        "amount": "18.90",
        "merchant": "City Parking",
        "category": "travel",
        "incurred_on": str(local_today(tenant.organization)),
        "description": "Client visit",
        "receipt": receipt_file(content=PHOTO),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_the_employee_page_has_a_camera_friendly_claim_form(tenant):
    page = logged_in(tenant.employee).get("/").content.decode()
    assert "Claim an expense" in page and 'enctype="multipart/form-data"' in page
    assert 'accept="image/*,application/pdf"' in page and 'type="date"' in page


def test_an_employee_claims_once_per_page_and_sees_the_claim(tenant):
    client = logged_in(tenant.employee)
    response = client.post("/claims/", claim_form(tenant))
    assert response.status_code == 302 and response["Location"] == "/?claimed=1#own-claims"
    assert client.post("/claims/", claim_form(tenant)).status_code == 302  # the same page sent twice
    claim = Transaction.objects.get(kind=Transaction.Kind.REIMBURSEMENT)
    assert claim.employee == tenant.employee and claim.amount_minor == 1_890

    settle_all(tenant.organization)
    page = client.get("/?claimed=1").content.decode()
    assert "Claim submitted" in page and "City Parking" in page and "Approved, to be paid" in page
    # Under "My claims" only, not again under "My transactions".
    assert page.count("City Parking") == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"receipt": None}, "Attach a photo or PDF of the receipt."), ({"amount": "abc"}, "amount")],
)
def test_a_refused_claim_shows_the_form_again_with_the_reason(tenant, changes, message):
    response = logged_in(tenant.employee).post("/claims/", claim_form(tenant, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'value="City Parking"' in page
    assert not Transaction.objects.exists()


def test_only_employees_claim_on_the_page(tenant):
    response = logged_in(tenant.finance).post("/claims/", claim_form(tenant))
    assert response.status_code == 403
    assert logged_in(tenant.employee).get("/claims/").status_code == 405
    assert not Transaction.objects.exists()


def test_finance_pays_claims_in_a_batch_releases_it_and_downloads_the_bank_file(tenant):
    claim = claim_submit(tenant.employee, "64.00")
    settle_all(tenant.organization)
    finance = logged_in(tenant.finance)

    listing = finance.get("/admin/reimbursements/claim/").content.decode()
    assert "Taxi Co" in listing and "Approved, to be paid" in listing
    finance.post("/admin/reimbursements/claim/", {"action": "pay_in_new_batch", ACTION_CHECKBOX_NAME: [str(claim.id)]})
    batch = PayoutBatch.objects.get()
    assert batch.status == PayoutBatch.Status.DRAFT and batch.total_minor == 6_400

    finance.post("/admin/reimbursements/payoutbatch/", {"action": "release", ACTION_CHECKBOX_NAME: [str(batch.id)]})
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.RELEASED and batch.released_by == tenant.finance

    download = finance.get(f"/admin/reimbursements/payoutbatch/{batch.id}/export.csv")
    assert download.status_code == 200
    assert f"{tenant.employee.email},64.00,USD,{claim.id}" in b"".join(download.streaming_content).decode()


def test_another_tenants_batch_is_not_in_the_back_office(tenant, other_tenant):
    theirs = claim_submit(other_tenant.employee, "5.00")
    settle_all(other_tenant.organization)
    batch = batch_of(other_tenant.finance, [theirs])
    finance = logged_in(tenant.finance)
    assert finance.get(f"/admin/reimbursements/payoutbatch/{batch.id}/export.csv").status_code == 404
    finance.post("/admin/reimbursements/payoutbatch/", {"action": "release", ACTION_CHECKBOX_NAME: [str(batch.id)]})
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.DRAFT
    assert logged_in(tenant.employee).get("/admin/reimbursements/payoutbatch/").status_code == 302
