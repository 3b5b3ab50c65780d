"""What each export holds: its columns, and its rows made from the selectors' rows.

A cell is a str, or a Decimal for an amount (a number in XLSX, its exact decimal text in CSV).
The three accounting packages' layouts follow their own documentation of a journal import, column
for column (docs/operations.md, "Importing into an accounting package", cites each):

- QuickBooks Online: Intuit's help article "Import journal entries" (Settings > Import data > Journal
  entries; quickbooks.intuit.com/learn-support/en-au/help-article/import-export-files/
  import-journal-entries-quickbooks-online/L4tQBwbs7_AU_en_AU) lists Journal No., Journal Date, Account
  Name, Description, Debits, Credits; every line of one entry shares its Journal No., debits and
  credits in their own columns; the date MM/DD/YYYY.
- Xero: Xero Central, "Enter multiple manual journals using an import template" (help.xero.com/nz/
  ManualJournalsImport): Narration, Date, Description, AccountCode, TaxRate, Amount (positive a debit,
  negative a credit), TrackingName1, TrackingOption1, TrackingName2, TrackingOption2; one narration and
  date per journal; the date dd/mm/yyyy.
- NetSuite: Oracle NetSuite help, "Journal Entry and Intercompany Journal Entry Header Fields Table"
  and "... Line-Level Fields Table" (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/
  section_1534492479.html and section_1534492737.html): header External ID, Date, Currency, Memo; line
  Account, Debit, Credit, Department; each entry's lines share its External ID.
"""

import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models

from apps.tenancy.models import Organization
from ledgerx.money import to_decimal_string

from . import selectors
from .months import Month
from .selectors import JournalLine, TransactionRow

Cell = str | Decimal


class ExportKind(models.TextChoices):
    TRANSACTIONS = "transactions", "Transactions"
    JOURNAL = "journal", "Journal lines"
    QUICKBOOKS = "quickbooks", "QuickBooks Online journal entries"
    XERO = "xero", "Xero manual journals"
    NETSUITE = "netsuite", "NetSuite journal entries"


@dataclass(frozen=True)
class Layout:
    kind: str
    columns: tuple[str, ...]
    rows: Callable[[Organization, Month], Iterator[tuple[Cell, ...]]]


def _amount(minor: int, currency: str) -> Decimal:
    return Decimal(to_decimal_string(minor, currency))


def _debit_credit(line: JournalLine) -> tuple[Cell, Cell]:
    amount = _amount(abs(line.amount_minor), line.currency)
    return (amount, "") if line.amount_minor > 0 else ("", amount)


def journal_number(line: JournalLine) -> str:
    """The journal's number in an accounting package: short (QuickBooks takes 21 characters) and stable."""
    return f"LX{line.journal_number}"


def memo(line: JournalLine) -> str:
    text = f"{line.kind.capitalize()} at {line.merchant} ({line.category})"
    return f"{text}: {line.description}" if line.description else text


def journal_rows(organization: Organization, month: Month) -> Iterator[tuple[Cell, ...]]:
    for line in selectors.journal_lines(organization=organization, month=month):
        yield (
            line.day.isoformat(),
            line.journal_id,
            journal_number(line),
            str(line.line_id),
            line.gl_code,
            line.cost_centre,
            line.account,
            *_debit_credit(line),
            line.currency,
            memo(line),
        )


def quickbooks_rows(organization: Organization, month: Month) -> Iterator[tuple[Cell, ...]]:
    for line in selectors.journal_lines(organization=organization, month=month):
        yield (journal_number(line), line.day.strftime("%m/%d/%Y"), line.gl_code, memo(line), *_debit_credit(line))


def xero_rows(organization: Organization, month: Month) -> Iterator[tuple[Cell, ...]]:
    tax_rate = settings.EXPORTS_XERO_TAX_RATE
    for line in selectors.journal_lines(organization=organization, month=month):
        tracking = ("Cost centre", line.cost_centre) if line.cost_centre else ("", "")
        yield (
            f"{journal_number(line)} {memo(line)}",
            line.day.strftime("%d/%m/%Y"),
            memo(line),
            line.gl_code,
            tax_rate,
            _amount(line.amount_minor, line.currency),
            *tracking,
            "",
            "",
        )


def netsuite_rows(organization: Organization, month: Month) -> Iterator[tuple[Cell, ...]]:
    for line in selectors.journal_lines(organization=organization, month=month):
        yield (
            journal_number(line),
            line.day.strftime("%m/%d/%Y"),
            line.currency,
            memo(line),
            line.gl_code,
            *_debit_credit(line),
            line.cost_centre,
        )


def _moment(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat() if moment else ""


def transaction_cells(row: TransactionRow, zone: zoneinfo.ZoneInfo) -> tuple[Cell, ...]:
    receipts = " ".join(selectors.receipt_link(receipt_id) for receipt_id in (row.receipt_ids or "").split())
    return (
        row.id,
        _moment(row.created_at, zone),
        row.kind,
        row.status,
        row.employee,
        row.department,
        row.merchant,
        row.category,
        row.description,
        _amount(row.amount_minor, row.currency),
        row.currency,
        _amount(row.original_amount_minor, row.original_currency),
        row.original_currency,
        row.fx_rate,
        row.fx_rate_date.isoformat() if row.fx_rate_date else "",
        "" if row.policy_version is None else str(row.policy_version),
        row.rejection_reason,
        row.approval_status or "",
        _moment(row.approval_decided_at, zone),
        row.approval_decisions or "",
        receipts,
        row.reversal_of or "",
    )


def transactions_rows(organization: Organization, month: Month) -> Iterator[tuple[Cell, ...]]:
    zone = zoneinfo.ZoneInfo(organization.timezone)
    for row in selectors.transaction_rows(organization=organization, month=month):
        yield transaction_cells(row, zone)


LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            ExportKind.TRANSACTIONS,
            (
                "transaction_id",
                "created_at",
                "kind",
                "status",
                "employee",
                "department",
                "merchant",
                "category",
                "description",
                "amount",
                "currency",
                "original_amount",
                "original_currency",
                "fx_rate",
                "fx_rate_date",
                "policy_version",
                "rejection_reason",
                "approval_status",
                "approval_decided_at",
                "approval_decisions",
                "receipts",
                "reversal_of",
            ),
            transactions_rows,
        ),
        Layout(
            ExportKind.JOURNAL,
            (
                "date",
                "journal_id",
                "journal_number",
                "line_id",
                "gl_code",
                "cost_centre",
                "account",
                "debit",
                "credit",
                "currency",
                "memo",
            ),
            journal_rows,
        ),
        Layout(
            ExportKind.QUICKBOOKS,
            ("Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits"),
            quickbooks_rows,
        ),
        Layout(
            ExportKind.XERO,
            (
                "Narration",
                "Date",
                "Description",
                "AccountCode",
                "TaxRate",
                "Amount",
                "TrackingName1",
                "TrackingOption1",
                "TrackingName2",
                "TrackingOption2",
            ),
            xero_rows,
        ),
        Layout(
            ExportKind.NETSUITE,
            ("External ID", "Date", "Currency", "Memo", "Account", "Debit", "Credit", "Department"),
            netsuite_rows,
        ),
    )
}
