"""The exports' contents, read back from the files: every layout balances per journal and per file, the
accounting packages' layouts have exactly their documented columns, and the same data gives the same bytes."""

import hashlib
import io
import zipfile
from collections import defaultdict
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse

from apps.exports import writers
from apps.exports.exporting import ExportFormat, export_define, export_response, export_sha256
from apps.exports.layouts import ExportKind

from .conftest import MONTH, csv_rows, header_of, xlsx_rows

JOURNAL_KINDS = [ExportKind.JOURNAL, ExportKind.QUICKBOOKS, ExportKind.XERO, ExportKind.NETSUITE]
# Written from each package's documentation (docs/operations.md cites it), not from the code's tuples.
DOCUMENTED_COLUMNS = {
    ExportKind.QUICKBOOKS: ["Journal No.", "Journal Date", "Account Name", "Description", "Debits", "Credits"],
    ExportKind.XERO: [
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
    ],
    ExportKind.NETSUITE: ["External ID", "Date", "Currency", "Memo", "Account", "Debit", "Credit", "Department"],
}
# (the column naming a line's journal, its debit column, its credit column); Xero has one signed Amount.
JOURNAL_KEYS = {
    ExportKind.JOURNAL: ("journal_id", "debit", "credit"),
    ExportKind.QUICKBOOKS: ("Journal No.", "Debits", "Credits"),
    ExportKind.XERO: ("Narration", "Amount", None),
    ExportKind.NETSUITE: ("External ID", "Debit", "Credit"),
}


def exported(books, kind: str, file_format: str, organization=None) -> bytes:
    export = export_define(
        organization=organization or books.tenant.organization, kind=kind, month=MONTH, file_format=file_format
    )
    response = export_response(export)
    return b"".join(response.streaming_content)


def rows_of(content: bytes, file_format: str) -> list[dict]:
    return csv_rows(content) if file_format == ExportFormat.CSV else xlsx_rows(content)


def _number(value) -> Decimal:
    return Decimal(str(value)) if value != "" else Decimal(0)


@pytest.mark.parametrize("file_format", ExportFormat.values)
@pytest.mark.parametrize("kind", JOURNAL_KINDS)
def test_every_journal_layout_balances_per_journal_and_per_file(books, kind, file_format):
    journal_column, debit_column, credit_column = JOURNAL_KEYS[kind]
    rows = rows_of(exported(books, kind, file_format), file_format)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        credit = _number(row[credit_column]) if credit_column else Decimal(0)
        net[row[journal_column]] += _number(row[debit_column]) - credit
    # plain, foreign, reversal and the three-line split: nine lines, four journals, each balanced.
    assert len(rows) == 9 and len(net) == 4
    assert all(total == 0 for total in net.values()), net
    assert sum(net.values()) == 0
    debits = sum((_number(row[debit_column]) for row in rows if _number(row[debit_column]) > 0), Decimal(0))
    assert debits == Decimal("120.00") + Decimal("54.25") + Decimal("120.00") + Decimal("50.01")


@pytest.mark.parametrize("file_format", ExportFormat.values)
@pytest.mark.parametrize("kind", list(DOCUMENTED_COLUMNS))
def test_an_accounting_package_file_has_exactly_its_documented_columns(books, kind, file_format):
    content = exported(books, kind, file_format)
    header = header_of(content) if file_format == ExportFormat.CSV else list(xlsx_rows(content)[0])
    assert header == DOCUMENTED_COLUMNS[kind]


def test_the_journal_lines_carry_date_in_the_organizations_timezone_gl_code_cost_centre_and_amounts(books):
    rows = csv_rows(exported(books, ExportKind.JOURNAL, ExportFormat.CSV))
    assert list(rows[0]) == [
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
    ]
    first = rows[0]
    # Booked 2025-02-28 15:00 UTC: 2025-03-01 in Tokyo, so March's; the entries either side of the month are not.
    assert (first["date"], first["journal_id"], first["gl_code"], first["cost_centre"]) == (
        "2025-03-01",
        str(books.plain.id),
        "6000",
        "ENG",
    )
    assert (first["debit"], first["credit"], first["currency"]) == ("120.00", "", "USD")
    assert rows[1]["credit"] == "120.00" and rows[1]["gl_code"] == "2100"
    journals = [row["journal_id"] for row in rows]
    assert journals == sorted(journals, key=journals.index)  # each journal's lines together
    ids = {row["journal_id"] for row in rows}
    assert ids == {str(books.plain.id), str(books.foreign.id), str(books.reversal.id), str(books.split.id)}
    assert {row["journal_number"] for row in rows if row["journal_id"] == str(books.split.id)} == {
        rows[-3]["journal_number"]
    }
    assert rows[2]["memo"] == "Spend at Lufthansa (equipment): Flight to Berlin"


def test_the_packages_dates_signs_and_tracking_follow_their_layouts(books):
    quickbooks = csv_rows(exported(books, ExportKind.QUICKBOOKS, ExportFormat.CSV))
    assert quickbooks[0]["Journal Date"] == "03/01/2025" and quickbooks[0]["Account Name"] == "6000"
    xero = csv_rows(exported(books, ExportKind.XERO, ExportFormat.CSV))
    assert (xero[2]["Date"], xero[2]["Amount"], xero[3]["Amount"]) == ("10/03/2025", "54.25", "-54.25")
    assert (xero[2]["TrackingName1"], xero[2]["TrackingOption1"], xero[3]["TrackingName1"]) == (
        "Cost centre",
        "ENG",
        "",
    )
    assert {row["TaxRate"] for row in xero} == {"Tax Exempt"}
    assert len({(row["Narration"], row["Date"]) for row in xero}) == 4
    netsuite = csv_rows(exported(books, ExportKind.NETSUITE, ExportFormat.CSV))
    assert (netsuite[0]["Date"], netsuite[0]["Department"], netsuite[0]["Currency"]) == ("03/01/2025", "ENG", "USD")
    assert netsuite[0]["External ID"] == netsuite[1]["External ID"] == quickbooks[0]["Journal No."]


@pytest.mark.parametrize("file_format", ExportFormat.values)
def test_the_transactions_export_carries_fx_receipts_approval_and_policy_outcome(books, file_format):
    rows = rows_of(exported(books, ExportKind.TRANSACTIONS, file_format), file_format)
    by_id = {row["transaction_id"]: row for row in rows}
    # Every transaction created in March (Tokyo), whatever its status: the rejected one too.
    assert list(by_id) == [str(t.id) for t in (books.plain, books.foreign, books.reversal, books.split, books.rejected)]
    foreign = by_id[str(books.foreign.id)]
    assert (_number(foreign["amount"]), foreign["currency"]) == (Decimal("54.25"), "USD")
    assert (_number(foreign["original_amount"]), foreign["original_currency"]) == (Decimal("50.00"), "EUR")
    assert (_number(foreign["fx_rate"]), foreign["fx_rate_date"]) == (Decimal("1.085"), "2025-03-09")
    assert foreign["receipts"] == f"/api/v1/receipts/{books.receipt.id}/file"
    assert (foreign["approval_status"], foreign["approval_decided_at"]) == ("approved", "2025-03-10T13:00:00+09:00")
    assert foreign["approval_decisions"] == f"level 1 approved by {books.tenant.finance.email}"
    assert (str(foreign["policy_version"]), foreign["created_at"]) == ("3", "2025-03-10T11:00:00+09:00")
    rejected = by_id[str(books.rejected.id)]
    assert (rejected["status"], rejected["rejection_reason"], rejected["receipts"]) == (
        "rejected",
        "Over the spend rule's limit",
        "",
    )
    assert by_id[str(books.reversal.id)]["reversal_of"] == str(books.plain.id)
    assert by_id[str(books.plain.id)]["approval_status"] == "" and by_id[str(books.plain.id)]["fx_rate_date"] == ""


def test_a_formula_is_kept_as_text(books):
    split = csv_rows(exported(books, ExportKind.TRANSACTIONS, ExportFormat.CSV))[3]
    assert split["merchant"] == '\'=HYPERLINK("x")'
    as_xlsx = xlsx_rows(exported(books, ExportKind.TRANSACTIONS, ExportFormat.XLSX))[3]
    assert as_xlsx["merchant"] == '=HYPERLINK("x")'  # a string cell, never a formula


@pytest.mark.parametrize("file_format", ExportFormat.values)
@pytest.mark.parametrize("kind", ExportKind.values)
def test_the_same_month_gives_the_same_bytes_and_checksum(books, kind, file_format):
    first, again = exported(books, kind, file_format), exported(books, kind, file_format)
    assert first == again
    export = export_define(organization=books.tenant.organization, kind=kind, month=MONTH, file_format=file_format)
    assert export_sha256(export) == hashlib.sha256(first).hexdigest()


def test_an_xlsx_states_no_clock(books):
    content = exported(books, ExportKind.JOURNAL, ExportFormat.XLSX)
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert {member.date_time[:3] for member in archive.infolist()} <= {(1980, 1, 1), (1980, 1, 31)}
    core = archive.read("docProps/core.xml").decode()
    assert "2025-04-01T00:00:00Z" in core  # the month's end, not the moment of the export


def test_csv_is_streamed_and_xlsx_streamed_from_a_file(books, monkeypatch):
    organization = books.tenant.organization
    csv_response = export_response(
        export_define(organization=organization, kind="journal", month=MONTH, file_format="csv")
    )
    xlsx_response = export_response(
        export_define(organization=organization, kind="journal", month=MONTH, file_format="xlsx")
    )
    assert isinstance(csv_response, StreamingHttpResponse) and not isinstance(csv_response, FileResponse)
    assert isinstance(xlsx_response, FileResponse)
    b"".join(xlsx_response.streaming_content)
    xlsx_response.file_to_stream.close()
    # A piece goes out as soon as it fills: with pieces of 200 bytes, the month's CSV leaves in many.
    monkeypatch.setattr(writers, "CHUNK_BYTES", 200)
    pieces = list(
        export_response(
            export_define(organization=organization, kind="journal", month=MONTH, file_format="csv")
        ).streaming_content
    )
    assert len(pieces) > 5 and b"".join(pieces) == exported(books, "journal", "csv")
