"""/api/v1/exports/{kind}: finance roles export their own organization's month; everything else is refused."""

import base64
import hashlib

import pytest

from apps.exports import writers
from tests.conftest import client_for

from .conftest import MONTH, csv_rows, xlsx_rows

EXPORTS = "/api/v1/exports"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def content_of(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_roles_download_a_month_as_csv(books, role):
    response = client_for(getattr(books.tenant, role)).get(f"{EXPORTS}/journal", {"month": MONTH})
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{books.tenant.organization.slug}-journal-2025-03.csv"'
    )
    assert len(csv_rows(content_of(response))) == 9


def test_xlsx_carries_its_digest_and_the_sidecar_matches_both_files(books):
    client = client_for(books.tenant.finance)
    for file_format in ("csv", "xlsx"):
        content = content_of(client.get(f"{EXPORTS}/quickbooks", {"month": MONTH, "format": file_format}))
        sidecar = client.get(f"{EXPORTS}/quickbooks", {"month": MONTH, "format": f"{file_format}.sha256"})
        filename = f"{books.tenant.organization.slug}-quickbooks-2025-03.{file_format}"
        assert sidecar.content.decode() == f"{hashlib.sha256(content).hexdigest()}  {filename}\n"
    xlsx = client.get(f"{EXPORTS}/quickbooks", {"month": MONTH, "format": "xlsx"})
    digest = base64.b64encode(hashlib.sha256(content_of(xlsx)).digest()).decode()
    assert xlsx["Repr-Digest"] == f"sha-256=:{digest}:"
    assert xlsx["Content-Disposition"].startswith("attachment;")


def test_an_employee_is_refused_and_an_anonymous_caller_asked_to_sign_in(books):
    error = error_of(client_for(books.tenant.employee).get(f"{EXPORTS}/transactions", {"month": MONTH}), 403)
    assert error["code"] == "forbidden"
    assert client_for(None).get(f"{EXPORTS}/transactions", {"month": MONTH}).status_code == 401


def test_another_organizations_finance_user_sees_only_their_own_books(books):
    client = client_for(books.other.finance)
    rows = csv_rows(content_of(client.get(f"{EXPORTS}/journal", {"month": MONTH})))
    assert [row["journal_id"] for row in rows] == [str(books.other_journal.id)] * 2
    transactions = csv_rows(content_of(client.get(f"{EXPORTS}/transactions", {"month": MONTH, "format": "csv"})))
    assert [row["transaction_id"] for row in transactions] == [str(books.other_journal.id)]
    as_xlsx = xlsx_rows(content_of(client.get(f"{EXPORTS}/transactions", {"month": MONTH, "format": "xlsx"})))
    assert [row["transaction_id"] for row in as_xlsx] == [row["transaction_id"] for row in transactions]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "month"),
        ({"month": "2025-3"}, "month"),
        ({"month": "2025-13"}, "month"),
        ({"month": "March"}, "month"),
        ({"month": MONTH, "format": "pdf"}, "format"),
        ({"month": MONTH, "organization": "globex"}, "organization"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(books, query, field):
    error = error_of(client_for(books.tenant.finance).get(f"{EXPORTS}/journal", query), 400)
    assert error["code"] == "invalid" and field in error["fields"]


def test_an_unknown_export_is_a_404(books):
    error_of(client_for(books.tenant.finance).get(f"{EXPORTS}/ledger", {"month": MONTH}), 404)


def test_a_month_too_large_for_a_worksheet_is_refused_as_xlsx_and_served_as_csv(books, monkeypatch):
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 9)  # the header and eight lines; the month has nine
    client = client_for(books.tenant.finance)
    error = error_of(client.get(f"{EXPORTS}/journal", {"month": MONTH, "format": "xlsx"}), 400)
    assert "more than a worksheet holds" in error["message"] and "format" in error["fields"]
    assert len(csv_rows(content_of(client.get(f"{EXPORTS}/journal", {"month": MONTH})))) == 9
