"""Receipts in the back office: on the spend's page, in their own list, and the spends missing one;
finance and org admins of the organization only, read-only."""

import pytest
from django.test import Client

from apps.receipts import services
from tests.controls.conftest import rule
from tests.factories import login_verified
from tests.receipts.conftest import png, upload
from tests.spends import spend_settled


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db
def test_finance_sees_the_receipts_on_the_spend_and_in_their_list(tenant, other_tenant, spend):
    receipt = upload(tenant.employee, spend, png(), name="folio.png")
    services.receipt_process(receipt_id=receipt.id)

    page = admin_client(tenant.finance).get(f"/admin/ledger/transaction/{spend.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'src="/api/v1/receipts/{receipt.id}/thumbnail"' in html and "folio.png" in html

    listed = admin_client(tenant.admin).get("/admin/receipts/receipt/")
    assert listed.status_code == 200 and f"/api/v1/receipts/{receipt.id}/file" in listed.content.decode()
    assert admin_client(tenant.admin).get(f"/admin/receipts/receipt/{receipt.id}/change/").status_code == 200

    elsewhere = admin_client(other_tenant.finance).get("/admin/receipts/receipt/")
    assert elsewhere.status_code == 200 and str(receipt.id) not in elsewhere.content.decode()
    assert admin_client(other_tenant.finance).get(f"/admin/receipts/receipt/{receipt.id}/change/").status_code == 302
    assert admin_client(tenant.finance).get("/admin/receipts/receipt/add/").status_code == 403
    assert admin_client(tenant.finance).post(f"/admin/receipts/receipt/{receipt.id}/delete/").status_code == 403


@pytest.mark.django_db
def test_the_system_admin_does_not_see_the_tenants_receipts(system_admin, tenant, spend):
    upload(tenant.employee, spend, png())
    assert admin_client(system_admin).get("/admin/receipts/receipt/").status_code == 403
    page = admin_client(system_admin).get(f"/admin/ledger/transaction/{spend.id}/change/")
    assert page.status_code == 200 and "/api/v1/receipts/" not in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_back_office_lists_the_spends_missing_a_receipt(tenant, other_tenant, system_admin):
    rule(tenant, "receipt_required_above", amount_minor=5_000)
    missing = spend_settled(tenant.employee, "99.00", merchant="Marriott", category="travel")
    covered = spend_settled(tenant.employee, "120.00", merchant="Hertz", category="travel")
    upload(tenant.employee, covered, png())

    page = admin_client(tenant.finance).get("/admin/receipts/spendmissingreceipt/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Marriott" in html and "$99" in html and "Hertz" not in html
    assert (
        "Marriott"
        not in admin_client(other_tenant.finance).get("/admin/receipts/spendmissingreceipt/").content.decode()
    )
    assert "Marriott" in admin_client(system_admin).get("/admin/receipts/spendmissingreceipt/").content.decode()
    assert missing.status == "posted"
