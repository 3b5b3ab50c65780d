"""Writes of bills: a vendor's invoice submitted through the spend intake as a transaction of kind `bill`.

One path for money: the bill is accepted, settled against the budget of its department and every ancestor
(in the month of the bill), held for approval by the approval policies and approved, rejected, expired or
reversed exactly as a spend is. Only its journal's credit differs: accounts payable, which a payment run
clears against the bank (apps/ledger credit_account_kind).
"""

import hashlib
import re
import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.ledger.models import Transaction
from apps.receipts import services as receipt_services
from apps.spending.services import transaction_submit
from apps.tenancy.models import User
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit
from ledgerx.errors import Conflict, InvalidInput, NotFound
from ledgerx.money import MoneyError, parse_amount

from . import events
from .models import Bill, Vendor
from .vendors import require_finance

BILL_CATEGORY = "vendor bills"
# How old a bill may be when it is entered, and how far its due date may lie.
BILL_MAX_AGE = timedelta(days=365)
DUE_MAX_AHEAD = timedelta(days=366)


def invoice_key(invoice_number: str) -> str:
    """The invoice number as duplicates are found by: its letters and digits, in upper case."""
    return re.sub(r"[^0-9A-Za-z]", "", invoice_number).upper()


def bill_submit(
    *,
    user: User,
    idempotency_key: str,
    vendor_id: uuid.UUID,
    invoice_number: str,
    amount: str,
    currency: str,
    bill_date: date,
    due_date: date,
    department_id: uuid.UUID | None,
    description: str,
    invoice: UploadedFile | None,
) -> tuple[Transaction, bool]:
    """Accept a vendor's bill as a pending `bill` through the spend intake (the vendor's default department
    unless one is named), its invoice file kept by the receipts app, and `bill.submitted` emitted, all with
    the transaction's INSERT. A bill whose vendor, invoice number and amount match a bill not rejected is a
    duplicate: refused (409) naming it, and nothing is written. Returns the transaction and whether it was
    a replay."""
    require_finance(user)
    vendor = Vendor.objects.of(user.organization).filter(id=vendor_id).first()
    if vendor is None:
        raise NotFound("Vendor not found.")
    errors: dict[str, list[str]] = {}
    key = invoice_key(invoice_number)
    if not key or len(invoice_number.strip()) > 64:
        errors["invoice_number"] = ["The vendor's invoice number, up to 64 characters."]
    if due_date < bill_date:
        errors["due_date"] = ["On or after the bill's date."]
    today = timezone.localdate(timezone=ZoneInfo(user.organization.timezone))
    if bill_date > today or bill_date < today - BILL_MAX_AGE:
        errors["bill_date"] = [f"Not in the future, and within {BILL_MAX_AGE.days} days."]
    if due_date > today + DUE_MAX_AHEAD:
        errors["due_date"] = [f"Within {DUE_MAX_AHEAD.days} days."]
    try:
        original_minor = parse_amount(amount, currency)
    except MoneyError as error:
        errors["amount"] = [str(error)]
        original_minor = 0
    if invoice is None or not invoice.size:
        errors["invoice"] = ["Attach the vendor's invoice (PDF or image)."]
    if errors:
        raise InvalidInput("The bill is not valid.", fields=errors)

    def on_accept(accepted: Transaction) -> None:
        # The vendor's row is the lock that lets one of two racing twins in first; the other then sees it.
        locked_vendor = Vendor.objects.select_for_update().get(id=vendor.id)
        duplicate = (
            Bill.objects.filter(vendor=locked_vendor, invoice_key=key, amount_minor=original_minor, currency=currency)
            .exclude(transaction__status=Transaction.Status.REJECTED)
            .first()
        )
        if duplicate is not None:
            raise Conflict(
                f"Duplicate bill: {locked_vendor.legal_name}'s invoice {duplicate.invoice_number} of this amount "
                f"was entered on {duplicate.created_at:%Y-%m-%d} (bill {duplicate.id})."
            )
        bill = Bill.objects.create(
            organization_id=accepted.organization_id,
            transaction=accepted,
            vendor=locked_vendor,
            invoice_number=invoice_number.strip(),
            invoice_key=key,
            bill_date=bill_date,
            due_date=due_date,
            amount_minor=original_minor,
            currency=currency,
        )
        outbox_emit(
            organization_id=accepted.organization_id,
            event_type=EventType.BILL_SUBMITTED,
            payload=events.bill_payload(bill, status=Transaction.Status.PENDING, occurred_at=accepted.created_at),
        )
        # Last: its file is stored before its row, and only a failed commit after this would leave it orphaned.
        _invoice_attach(actor=user, bill_transaction=accepted, upload=invoice)

    return transaction_submit(
        user=user,
        idempotency_key=idempotency_key,
        amount=amount,
        currency=currency,
        merchant=vendor.legal_name,
        category=BILL_CATEGORY,
        description=description or f"Invoice {invoice_number.strip()}",
        department_id=department_id or vendor.default_department_id,
        kind=Transaction.Kind.BILL,
        incurred_on=bill_date,
        on_accept=on_accept,
        fingerprint_extra={
            "vendor": str(vendor.id),
            "invoice_number": invoice_number.strip(),
            "due_date": due_date.isoformat(),
            "invoice_sha256": _digest(invoice),
        },
    )


def _digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _invoice_attach(*, actor: User, bill_transaction: Transaction, upload: UploadedFile) -> None:
    """The invoice kept as a receipt of the bill's transaction (checked by content, read like any receipt);
    400 on `invoice` when the receipts app refuses the file, and then the bill is not written either."""
    try:
        receipt_services.receipt_upload(
            actor=actor, transaction_id=bill_transaction.id, data=upload.read(), original_name=upload.name or "invoice"
        )
    except InvalidInput as error:
        raise InvalidInput(error.message, fields={"invoice": error.fields.get("file", [error.message])}) from None
