"""audit_report: an auditor writes a report file from the command line, identical on a second run."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command

from apps.ledger.closing import month_close, month_reopen
from apps.reports.models import ReportRun
from tests.spends import settle_all, spend_submit

from .conftest import MONTH, at


def run(month, tmp_path, name: str, *extra: str) -> bytes:
    output = tmp_path / name
    call_command(
        "audit_report",
        "ledger-tie-out",
        "--organization",
        month.organization.slug,
        "--period",
        MONTH,
        "--format",
        "pdf",
        "--output",
        str(output),
        *extra,
    )
    return output.read_bytes()


def test_the_command_writes_the_same_file_twice_and_fails_when_the_data_changed(month, tmp_path, capsys):
    first = run(month, tmp_path, "first.pdf", "--as", month.finance.email)
    again = run(month, tmp_path, "again.pdf")
    assert first == again and first.startswith(b"%PDF-")
    assert "data checksum" in capsys.readouterr().out
    assert list(ReportRun.objects.order_by("created_at").values_list("generated_by", flat=True)) == [
        month.finance.id,
        None,
    ]
    month_reopen(actor=month.admin, month=date(2025, 3, 1), reason="Late correction")
    with at(20, 15):
        spend_submit(month.employee, "25.00")
        settle_all(month.organization)
    month_close(actor=month.finance, month=date(2025, 3, 1))
    with pytest.raises(CommandError, match="The data of this period changed"):
        run(month, tmp_path, "changed.pdf")
    assert (tmp_path / "changed.pdf").read_bytes() != first


def test_the_command_names_what_is_wrong(month, tmp_path):
    with pytest.raises(CommandError, match="No organization"):
        call_command(
            "audit_report",
            "reversals",
            "--organization",
            "nobody",
            "--period",
            MONTH,
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x.csv"),
        )
    with pytest.raises(CommandError, match="--as must name"):
        run(month, tmp_path, "x.pdf", "--as", month.employee.email)
    with pytest.raises(CommandError, match="A period is written YYYY-MM"):
        call_command(
            "audit_report",
            "reversals",
            "--organization",
            str(month.organization.id),
            "--period",
            "03/2025",
            "--format",
            "csv",
            "--output",
            str(tmp_path / "x.csv"),
        )
    assert not ReportRun.objects.exists()
