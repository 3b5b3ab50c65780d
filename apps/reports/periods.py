"""A report's period: whole days in the organization's timezone, a calendar month or from/to dates."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from apps.ledger.closing import months_first_closed_at
from apps.tenancy.models import Organization
from ledgerx.errors import InvalidInput
from ledgerx.months import month_following, month_parse

# A longer span is refused: a report is read by people, a year of it is already long.
MAX_DAYS = 366
# Exactly as written: strptime and fromisoformat also take "2025-3" and "20250301".
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # the last day, included
    timezone_name: str

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(), zoneinfo.ZoneInfo(self.timezone_name))

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), zoneinfo.ZoneInfo(self.timezone_name))

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()} ({self.timezone_name})"


def _date(text: str, name: str) -> date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("A date is written YYYY-MM-DD.", fields={name: ["Use YYYY-MM-DD."]}) from None


def period_parse(
    *, organization: Organization, month: str | None = None, start: str | None = None, end: str | None = None
) -> Period:
    """`month` (YYYY-MM), or `start` and `end` (YYYY-MM-DD, both included); one way or the other."""
    if month and (start or end):
        raise InvalidInput("Give a period or from/to dates, not both.", fields={"period": ["Not with from/to."]})
    if month:
        first = month_parse(month, field="period")
        following = month_following(first)
        return Period(first, following - timedelta(days=1), organization.timezone)
    if not (start and end):
        missing = {name: ["Required without a period."] for name, value in (("from", start), ("to", end)) if not value}
        raise InvalidInput("Give a period (YYYY-MM) or both from and to dates.", fields=missing)
    first, last = _date(start, "from"), _date(end, "to")
    if last < first:
        raise InvalidInput("The period ends before it starts.", fields={"to": ["On or after from."]})
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"A period spans at most {MAX_DAYS} days.", fields={"to": [f"At most {MAX_DAYS} days."]})
    return Period(first, last, organization.timezone)


def period_has_ended(*, period: Period, now: datetime) -> bool:
    """Whether the period is over: its access review can be signed off. The access review reads who could
    do what, which a month's close does not freeze, so it waits for the period's end, not its close."""
    return now >= period.ends_at


def period_months(period: Period) -> list[date]:
    """The first days of the calendar months the period touches."""
    months = [period.start.replace(day=1)]
    while months[-1] < period.end.replace(day=1):
        last = months[-1]
        months.append(date(last.year + (last.month == 12), last.month % 12 + 1, 1))
    return months


def period_closed_since(*, organization: Organization, period: Period) -> datetime | None:
    """Since when the period's report can be regenerated identically: its data no longer moves, every month
    it touches having been closed by finance (month-end close, apps/ledger/closing.py). None while one is open."""
    return months_first_closed_at(organization=organization, months=period_months(period))
