"""export_books: the same file as the API, with its SHA-256 beside it; bad input writes nothing."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import client_for

from .conftest import MONTH


def run(books, tmp_path, kind: str, file_format: str, month: str = MONTH):
    output = tmp_path / f"{kind}.{file_format}"
    call_command(
        "export_books",
        "--organization",
        books.tenant.organization.slug,
        "--month",
        month,
        "--kind",
        kind,
        "--format",
        file_format,
        "--output",
        str(output),
    )
    return output


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_command_writes_the_apis_bytes_and_a_sidecar(books, tmp_path, file_format):
    output = run(books, tmp_path, "xero", file_format)
    response = client_for(books.tenant.finance).get("/api/v1/exports/xero", {"month": MONTH, "format": file_format})
    assert output.read_bytes() == b"".join(response.streaming_content)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    assert (tmp_path / f"xero.{file_format}.sha256").read_text() == f"{digest}  xero.{file_format}\n"


def test_a_bad_month_or_organization_fails_and_leaves_no_file(books, tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM"):
        run(books, tmp_path, "journal", "csv", month="2025-3")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CommandError, match="No organization"):
        call_command(
            "export_books", "--organization", "nobody", "--month", MONTH, "--kind", "journal", "--output", "x.csv"
        )
