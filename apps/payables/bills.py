"""Writes of bills: a vendor's invoice submitted through the spend intake as a transaction of kind `bill`.

One path for money: the bill is accepted, settled against the budget of its department and every ancestor
(in the month of the bill), held for approval by the approval policies and approved, rejected, expired or
reversed exactly as a spend is. Only its journal's credit differs: accounts payable, which a payment run
clears against the bank (apps/ledger credit_account_kind).
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.ledger.chart import chart_rules
from apps.ledger.models import Account, GLAccount, Transaction
from apps.receipts import services as receipt_services
from apps.spending.services import transaction_submit
from apps.tenancy.models import User
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit
from ledgerx.errors import Conflict, InvalidInput, NotFound
from ledgerx.money import MoneyError, parse_amount, to_decimal_string

from . import events
from .models import Bill, BillLine, Vendor
from .vendors import require_finance

BILL_CATEGORY = "vendor bills"
# How old a bill may be when it is entered, and how far its due date may lie.
BILL_MAX_AGE = timedelta(days=365)
DUE_MAX_AHEAD = timedelta(days=366)
BILL_LINES_MAX = 100


@dataclass(frozen=True)
class BillLineInput:
    """A GL line as entered: an expense account of the organization's chart, an amount as billed, a description."""

    gl_account_id: uuid.UUID
    amount: str
    description: str = ""


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
    lines: list[BillLineInput] | None = None,
) -> tuple[Transaction, bool]:
    """Accept a vendor's bill as a pending `bill` through the spend intake (the vendor's default department
    unless one is named), its GL lines, its invoice file kept by the receipts app, and `bill.submitted`
    emitted, all with the transaction's INSERT. `lines` must sum to the amount exactly (400 otherwise); none
    given is one line of the whole amount on the GL account the chart maps the vendor's bills to (its default
    GL account, when it has one). A bill whose vendor, invoice number and amount match a bill not rejected is
    a duplicate: refused (409) naming it, and nothing is written. Returns the transaction and whether it was
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
    department_id = department_id or vendor.default_department_id
    if lines:
        line_errors, gl_lines = _lines_check(user, lines, amount_minor=original_minor, currency=currency)
        if line_errors:
            errors["lines"] = line_errors
    else:
        gl_lines = [(_default_gl_account(vendor, department_id=department_id), original_minor, "")]
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
        BillLine.objects.bulk_create(
            BillLine(
                organization_id=accepted.organization_id,
                bill=bill,
                position=position,
                gl_account=gl_account,
                amount_minor=line_amount,
                description=line_description,
            )
            for position, (gl_account, line_amount, line_description) in enumerate(gl_lines, start=1)
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
        department_id=department_id,
        kind=Transaction.Kind.BILL,
        incurred_on=bill_date,
        on_accept=on_accept,
        fingerprint_extra={
            "vendor": str(vendor.id),
            "invoice_number": invoice_number.strip(),
            "due_date": due_date.isoformat(),
            "invoice_sha256": _digest(invoice),
            # As sent: a replay matches its original even if the chart's default for the vendor changed since.
            "lines": [[str(line.gl_account_id), line.amount, line.description] for line in lines or []],
        },
    )


def _lines_check(
    user: User, lines: list[BillLineInput], *, amount_minor: int, currency: str
) -> tuple[list[str], list[tuple[GLAccount, int, str]]]:
    """The lines' problems (one message per bad line, and one if they do not sum to the amount), and the lines
    with their GL accounts. Another organization's GL account is not found (404), as any id of it is."""
    if len(lines) > BILL_LINES_MAX:
        return [f"At most {BILL_LINES_MAX} lines."], []
    accounts = {
        account.id: account
        for account in GLAccount.objects.of(user.organization).filter(id__in={line.gl_account_id for line in lines})
    }
    if len(accounts) < len({line.gl_account_id for line in lines}):
        raise NotFound("GL account not found.")
    problems, checked = [], []
    for number, line in enumerate(lines, start=1):
        account = accounts[line.gl_account_id]
        try:
            minor = parse_amount(line.amount, currency)
        except MoneyError as error:
            problems.append(f"Line {number}: {error}")
            continue
        if account.type != GLAccount.Type.EXPENSE or not account.is_active:
            problems.append(f"Line {number}: {account.code} is not an active expense account of the chart.")
        elif len(line.description) > 200:
            problems.append(f"Line {number}: a description of up to 200 characters.")
        checked.append((account, minor, line.description.strip()))
    if not problems and amount_minor and sum(minor for _, minor, _ in checked) != amount_minor:
        problems.append(
            f"The lines sum to {to_decimal_string(sum(minor for _, minor, _ in checked), currency)}, not the "
            f"bill's {to_decimal_string(amount_minor, currency)}."
        )
    return problems, checked


def _default_gl_account(vendor: Vendor, *, department_id: uuid.UUID | None) -> GLAccount:
    """The GL account the chart posts the vendor's bills to: its default (the chart's merchant rule for its
    name), else the category's, the department's or the chart's default expense account (apps/ledger/chart.py)."""
    codes = chart_rules(organization=vendor.organization).leg_codes(
        account_kind=Account.Kind.EXPENSE,
        department_id=department_id,
        merchant=vendor.legal_name,
        category=BILL_CATEGORY,
    )
    return GLAccount.objects.of(vendor.organization).get(code=codes.gl_code)


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
