"""Reads of vendor payments: vendors, bills and their state, what a payment run would pay, runs."""

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from apps.ledger.models import Transaction
from apps.ledger.services import ExpenseShare
from apps.tenancy.models import Organization

from .models import Bill, BillLine, PayingAccount, PaymentLine, PaymentRun, ReturnFile, VendorBankChange


class BillStatus:
    """What finance sees of a bill, derived: its transaction's status, then its payment line's."""

    SUBMITTED = "submitted"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"
    SCHEDULED = "scheduled"
    PAID = "paid"
    RETURNED = "returned"
    ALL = (SUBMITTED, AWAITING_APPROVAL, APPROVED, REJECTED, REVERSED, SCHEDULED, PAID, RETURNED)


_STATUS_OF_TRANSACTION = {
    Transaction.Status.PENDING: BillStatus.SUBMITTED,
    Transaction.Status.AWAITING_APPROVAL: BillStatus.AWAITING_APPROVAL,
    Transaction.Status.POSTED: BillStatus.APPROVED,
    Transaction.Status.REJECTED: BillStatus.REJECTED,
    Transaction.Status.REVERSED: BillStatus.REVERSED,
}


def bill_status(bill: Bill) -> str:
    status = _STATUS_OF_TRANSACTION[bill.transaction.status]
    if status != BillStatus.APPROVED:
        return status
    latest = bill.payment_lines.select_related("run").order_by("-id").first()
    if latest is None:
        return status
    if latest.returned_at is not None:
        return BillStatus.RETURNED
    return BillStatus.PAID if latest.run.status == PaymentRun.Status.RELEASED else BillStatus.SCHEDULED


def bills_of(*, organization: Organization) -> QuerySet[Bill]:
    return (
        Bill.objects.of(organization)
        .select_related("vendor", "transaction", "transaction__department")
        .prefetch_related("lines__gl_account")
    )


def bill_expense_shares(transaction_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[ExpenseShare]]:
    """The GL lines of the bills of these transactions, as the journal writer splits their accrual: one
    expense line per bill line, its GL account's code, in proportion to its amount (registered in apps.py)."""
    shares: dict[uuid.UUID, list[ExpenseShare]] = {}
    for transaction_id, gl_code, amount_minor in (
        BillLine.objects.filter(bill__transaction_id__in=transaction_ids)
        .order_by("bill_id", "position")
        .values_list("bill__transaction_id", "gl_account__code", "amount_minor")
    ):
        shares.setdefault(transaction_id, []).append(ExpenseShare(gl_code, amount_minor))
    return shares


def bills_payable(*, organization: Organization, paying_account: PayingAccount, due_until: date) -> QuerySet[Bill]:
    """Approved bills with no standing payment, due by `due_until`, that this account can pay: in its
    currency, to vendors paid by its rail to approved details with no change waiting."""
    return (
        Bill.objects.of(organization)
        .filter(
            transaction__status=Transaction.Status.POSTED,
            currency=paying_account.currency,
            vendor__rail=paying_account.rail,
            due_date__lte=due_until,
        )
        .exclude(Exists(PaymentLine.objects.filter(bill=OuterRef("pk"), returned_at__isnull=True)))
        .exclude(
            Exists(VendorBankChange.objects.filter(vendor=OuterRef("vendor"), status=VendorBankChange.Status.PENDING))
        )
        .select_related("vendor")
        .order_by("due_date", "id")
    )


@dataclass(frozen=True)
class RunPreview:
    """What a run from one paying account would pay now: its bills, their count and total."""

    paying_account: PayingAccount
    bills: list[Bill]
    total_minor: int


def payment_preview(*, organization: Organization, due_until: date) -> list[RunPreview]:
    """Per paying account (and so per currency), the bills a run due by `due_until` would pay."""
    previews = []
    for account in PayingAccount.objects.of(organization).order_by("currency", "name"):
        bills = list(
            bills_payable(organization=organization, paying_account=account, due_until=due_until).prefetch_related(
                "lines__gl_account"
            )
        )
        previews.append(RunPreview(account, bills, sum(bill.amount_minor for bill in bills)))
    return previews


def bills_held(*, organization: Organization, due_until: date) -> list[tuple[Bill, str]]:
    """Approved, unpaid bills due by `due_until` that no run can pay yet, each with why."""
    standing = PaymentLine.objects.filter(bill=OuterRef("pk"), returned_at__isnull=True)
    waiting = VendorBankChange.objects.filter(vendor=OuterRef("vendor"), status=VendorBankChange.Status.PENDING)
    held = []
    for bill in (
        Bill.objects.of(organization)
        .filter(transaction__status=Transaction.Status.POSTED, due_date__lte=due_until)
        .exclude(Exists(standing))
        .annotate(change_waiting=Exists(waiting))
        .select_related("vendor")
    ):
        if bill.change_waiting:
            held.append((bill, "A change of the vendor's payment details waits for a second approval."))
        elif not bill.vendor.rail:
            held.append((bill, "The vendor has no approved payment details."))
        elif not PayingAccount.objects.of(organization).filter(rail=bill.vendor.rail, currency=bill.currency).exists():
            held.append((bill, f"No paying account pays {bill.currency} by {bill.vendor.get_rail_display()}."))
    return held


def runs_of(*, organization: Organization) -> QuerySet[PaymentRun]:
    return PaymentRun.objects.of(organization).select_related("paying_account", "organization")


def return_files_of(*, organization: Organization) -> QuerySet[ReturnFile]:
    """The organization's uploaded return files, newest first, without their bytes."""
    return ReturnFile.objects.of(organization).select_related("uploaded_by").defer("content")
