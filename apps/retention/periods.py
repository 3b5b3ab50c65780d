"""Which years are closed for retention: the one rule. A year is closed once it ended more than
RETENTION_YEARS ago and finance has closed every month of it (month-end close, apps/ledger/closing.py),
so that what is archived no longer moves."""

import zoneinfo
from datetime import date, datetime

from django.conf import settings

from apps.ledger.closing import months_closed
from apps.tenancy.models import Organization


def year_bounds(organization: Organization, year: int) -> tuple[datetime, datetime]:
    """The calendar year in the organization's timezone: [start, end)."""
    zone = zoneinfo.ZoneInfo(organization.timezone)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def year_months_open(organization: Organization, year: int) -> list[date]:
    """The months of the year that are not closed, in order."""
    months = [date(year, month, 1) for month in range(1, 13)]
    closed = months_closed(organization=organization, months=months)
    return [month for month in months if month not in closed]


def year_closed(organization: Organization, year: int, *, now: datetime) -> bool:
    """Ended more than RETENTION_YEARS ago (in the organization's timezone), and every month of it closed."""
    _, end = year_bounds(organization, year)
    return now >= end.replace(year=end.year + settings.RETENTION_YEARS) and not year_months_open(organization, year)
