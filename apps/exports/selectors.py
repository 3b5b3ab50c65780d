"""The rows of a month's books, read through server-side cursors in a fixed order.

Every selector yields as PostgreSQL sends (`.iterator(chunk_size=...)` opens a named cursor), so a
month of any size passes through a few thousand rows of memory; the order is total (ties broken by
id), so the same data always comes out in the same order.
"""

import zoneinfo
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import CharField, F, Min, OuterRef, Subquery, Value, Window
from django.db.models.functions import Cast, Concat, TruncDate
from django.urls import reverse

from apps.approvals.models import ApprovalDecision
from apps.ledger.models import EntryHistory, Transaction
from apps.receipts.models import Receipt
from apps.tenancy.models import Organization

from .months import Month

# Rows fetched per round trip of the named cursor: large enough that the round trips cost little,
# small enough that the memory they take stays a few megabytes.
CHUNK_ROWS = 5000


class JournalLine(NamedTuple):
    """One ledger entry as the books read it: a debit is a positive amount, a credit a negative one."""

    line_id: int
    journal_id: str  # the transaction's id: one journal per transaction
    # The first entry id of the journal: a short number, the same on every line of it, that never changes.
    journal_number: int
    day: date  # of its posting, in the organization's timezone
    gl_code: str
    cost_centre: str
    account: str
    amount_minor: int
    currency: str
    kind: str
    merchant: str
    category: str
    description: str


def journal_lines(*, organization: Organization, month: Month) -> Iterator[JournalLine]:
    """The month's journal lines (entries posted in it), journal after journal, each journal's lines by id.

    A journal's entries are inserted together at one time (apps/ledger/services._entries_insert), so a
    journal is never split across two months, and each balances (the ledger_entry_balanced trigger).
    """
    rows = (
        EntryHistory.objects.of(organization)
        .filter(created_at__gte=month.starts_at, created_at__lt=month.ends_at)
        .annotate(journal_number=Window(Min("id"), partition_by=[F("transaction_id")]))
        .order_by("journal_number", "id")
        .values_list(
            "id",
            Cast("transaction_id", CharField()),
            "journal_number",
            # The day in SQL: a date is cheaper to fetch than a timestamp to convert, a million times over.
            TruncDate("created_at", tzinfo=zoneinfo.ZoneInfo(organization.timezone)),
            "gl_code",
            "cost_centre",
            "account__name",
            "amount_minor",
            "currency",
            "transaction__kind",
            "transaction__merchant",
            "transaction__category",
            "transaction__description",
        )
    )
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        yield JournalLine(*row)


class TransactionRow(NamedTuple):
    id: str
    created_at: datetime
    kind: str
    status: str
    employee: str
    department: str
    merchant: str
    category: str
    description: str
    amount_minor: int
    currency: str
    original_amount_minor: int
    original_currency: str
    fx_rate: Decimal
    fx_rate_date: date | None
    policy_version: int | None
    rejection_reason: str
    approval_status: str | None
    approval_decided_at: datetime | None
    # "level 1 approved by a@x.test; level 2 rejected by b@x.test", in level order; None without decisions.
    approval_decisions: str | None
    # The ids of its receipts, in upload order, space-separated; None without receipts.
    receipt_ids: str | None
    reversal_of: str | None


def transaction_rows(*, organization: Organization, month: Month) -> Iterator[TransactionRow]:
    """Every transaction created in the month, whatever its status, by creation time then id."""
    decisions = (
        ApprovalDecision.objects.filter(request__transaction=OuterRef("pk"))
        .values("request")
        .annotate(
            text=StringAgg(
                Concat(
                    Value("level "),
                    Cast(F("level") + 1, CharField()),
                    Value(" "),
                    "outcome",
                    Value(" by "),
                    "approver__email",
                    output_field=CharField(),
                ),
                "; ",
                order_by=("level",),
            )
        )
        .values("text")
    )
    receipts = (
        Receipt.objects.filter(transaction=OuterRef("pk"))
        .values("transaction")
        .annotate(ids=StringAgg(Cast("id", CharField()), " ", order_by=("created_at", "id")))
        .values("ids")
    )
    rows = (
        Transaction.objects.of(organization)
        .filter(created_at__gte=month.starts_at, created_at__lt=month.ends_at)
        .annotate(decisions=Subquery(decisions), receipt_ids=Subquery(receipts))
        .order_by("created_at", "id")
        .values_list(
            Cast("id", CharField()),
            "created_at",
            "kind",
            "status",
            "employee__email",
            "department__name",
            "merchant",
            "category",
            "description",
            "amount_minor",
            "currency",
            "original_amount_minor",
            "original_currency",
            "fx_rate",
            "fx_rate_date",
            "policy_version",
            "rejection_reason",
            "approval__status",
            "approval__decided_at",
            "decisions",
            "receipt_ids",
            Cast("reversal_of_id", CharField()),
        )
    )
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        yield TransactionRow(*row)


def receipt_link(receipt_id: str) -> str:
    """The authorised view that serves the receipt's file (never a storage URL), as a path on the API's host:
    the same in every export, whichever host or command made it."""
    return reverse("receipt-file", kwargs={"receipt_id": receipt_id})
