"""A closed year of activity made through the real services: 2026 (the tests' own year), its months closed by
finance, archived on a clock travelled to 2034, when it has ended more than the seven years of retention ago;
and one spend
on 1 January 2027, in the next year's chain. The database writes the audit log's times itself, so
every audit change is of the real 2026; the ledger's entries take the travelled clock.
"""

import gzip
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from apps.audit.chain import audit_seal_all
from apps.ledger import chain
from apps.ledger.closing import month_close
from apps.ledger.models import Transaction
from tests.spends import spend_reverse, spend_settled

ARCHIVED_YEAR = 2026
# The first moment at which 2026 (UTC) is closed under RETENTION_YEARS = 7, and the next year, 2027.
CLOSED_2026 = datetime(2034, 1, 2, 9, 0, tzinfo=UTC)
CLOSED_2027 = datetime(2035, 1, 2, 9, 0, tzinfo=UTC)


@dataclass
class Year:
    tenant: object
    spends: list[Transaction]
    next_year_spend: Transaction


def seal_everything() -> None:
    chain.ledger_seal_all()
    audit_seal_all()


def close_every_month(tenant, year: int) -> None:
    """Finance closes each month of the year, in order, as month-end close has them do."""
    for month in range(1, 13):
        month_close(actor=tenant.finance, month=date(year, month, 1), now=datetime(year + 1, 1, 1, 9, tzinfo=UTC))


@pytest.fixture
def closed_year(tenant) -> Year:
    spends = [spend_settled(tenant.employee, amount) for amount in ("10.00", "20.00")]
    spend_reverse(tenant.finance, spends[0])
    seal_everything()
    with time_machine.travel(datetime(2027, 1, 1, 12, 0, tzinfo=UTC), tick=True):
        next_year_spend = spend_settled(tenant.employee, "30.00")
        seal_everything()
    close_every_month(tenant, ARCHIVED_YEAR)
    return Year(tenant, spends, next_year_spend)


def archive(year: Year, output: Path, *, at: datetime = CLOSED_2026, number: int = ARCHIVED_YEAR, actor=None) -> str:
    """Run archive_year as an operator would, the sealer having run (as it does every minute) since the
    last write: an earlier archive's audit event, say. Returns what it printed."""
    seal_everything()
    out = StringIO()
    arguments = ["--organization", year.tenant.organization.slug, "--year", str(number), "--output", str(output)]
    if actor is not None:
        arguments += ["--as", actor.email]
    with time_machine.travel(at, tick=True):
        call_command("archive_year", *arguments, stdout=out)
    return out.getvalue()


def lines_of(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as lines:
        return lines.read().splitlines(keepends=True)


def rewrite(path: Path, lines: list[bytes]) -> None:
    """The file with other lines, gzipped as the archive writes them."""
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(b"".join(lines))
