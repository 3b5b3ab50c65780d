"""The reading step of a receipt's processing: what Tesseract reads is kept on the receipt, with where it
disagrees with its spend, for a reviewer; it never changes the spend."""

import pytesseract
import pytest
from django.utils import timezone

from apps.ledger.models import Transaction
from apps.receipts import services
from apps.receipts.models import ReadingStatus
from tests.receipts.conftest import printed_receipt, upload
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def _read(tenant, amount: str, printed_total: str):
    spend = spend_submit(tenant.employee, amount, merchant="Blue Bottle", category="meals")
    settle_all(tenant.organization)
    today = timezone.localdate().isoformat()
    receipt = upload(tenant.employee, spend, printed_receipt(merchant="BLUE BOTTLE", day=today, total=printed_total))
    services.receipt_process(receipt_id=receipt.id)
    return spend, services.receipt_read(receipt_id=receipt.id)


def test_a_receipt_that_agrees_with_its_spend_is_read_without_a_flag(tenant, receipts_storage):
    _, receipt = _read(tenant, "12.40", "$12.40")
    assert receipt.reading_status == ReadingStatus.READ
    assert (receipt.read_total, receipt.read_currency) == ("12.40", "USD")
    assert receipt.read_date == timezone.localdate() and "BLUE BOTTLE" in receipt.read_merchant.upper()
    assert receipt.mismatches == []


def test_a_receipt_for_another_amount_is_flagged_and_the_spend_is_left_as_it_was(tenant, receipts_storage):
    spend, receipt = _read(tenant, "12.40", "$42.00")
    assert [mismatch["code"] for mismatch in receipt.mismatches] == ["amount_differs"]
    assert receipt.mismatches[0]["message"] == "The receipt's total is $42; the spend is $12.40."
    assert Transaction.objects.get(id=spend.id).status == Transaction.Status.POSTED
    assert services.receipt_read(receipt_id=receipt.id) is None  # read once: a redelivered message leaves it


def test_without_tesseract_a_receipt_is_marked_unreadable_and_kept(tenant, receipts_storage, monkeypatch):
    spend = spend_submit(tenant.employee, "12.40", merchant="Blue Bottle", category="meals")
    receipt = upload(tenant.employee, spend, printed_receipt(merchant="BLUE BOTTLE", day="2026-12-01", total="$1"))
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    read = services.receipt_read(receipt_id=receipt.id)
    assert read.reading_status == ReadingStatus.UNAVAILABLE and read.read_total == "" and read.mismatches == []


def test_the_api_shows_the_reading_to_those_who_see_the_receipt(api, tenant, receipts_storage):
    _, receipt = _read(tenant, "12.40", "$42.00")
    body = api(tenant.finance).get(f"/api/v1/receipts/{receipt.id}").json()
    assert body["reading"]["status"] == "read" and body["reading"]["total"] == "42.00"
    assert body["reading"]["mismatches"][0]["code"] == "amount_differs"
