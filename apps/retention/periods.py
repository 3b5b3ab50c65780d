"""Which years are closed for retention: the one rule, here so that month-end close (issue 23) can
tighten it to "every month of the year closed" in one place."""

import zoneinfo
from datetime import datetime

from django.conf import settings

from apps.tenancy.models import Organization


def year_bounds(organization: Organization, year: int) -> tuple[datetime, datetime]:
    """The calendar year in the organization's timezone: [start, end)."""
    zone = zoneinfo.ZoneInfo(organization.timezone)
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def year_closed(organization: Organization, year: int, *, now: datetime) -> bool:
    """A year is closed once it ended more than RETENTION_YEARS ago (in the organization's timezone)."""
    _, end = year_bounds(organization, year)
    return now >= end.replace(year=end.year + settings.RETENTION_YEARS)
