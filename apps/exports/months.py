"""The month an export covers: a calendar month of whole days in the organization's timezone."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from apps.tenancy.models import Organization
from ledgerx.errors import InvalidInput

# Exactly as written: strptime also takes "2025-3".
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Month:
    first_day: date
    timezone_name: str

    @property
    def label(self) -> str:
        return self.first_day.strftime("%Y-%m")

    @property
    def following_first_day(self) -> date:
        year, month = self.first_day.year, self.first_day.month
        return date(year + (month == 12), month % 12 + 1, 1)

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first_day, time(), zoneinfo.ZoneInfo(self.timezone_name))

    @property
    def ends_at(self) -> datetime:
        """The first instant after the month."""
        return datetime.combine(self.following_first_day, time(), zoneinfo.ZoneInfo(self.timezone_name))

    @property
    def stamp(self) -> datetime:
        """The one moment a file of this month states (XLSX metadata): its end, so no export carries a clock."""
        return datetime.combine(self.following_first_day, time(), UTC)


def month_parse(*, organization: Organization, text: str) -> Month:
    if not isinstance(text, str) or not _MONTH.fullmatch(text):
        raise InvalidInput("A month is written YYYY-MM.", fields={"month": ["Use YYYY-MM."]})
    return Month(date(int(text[:4]), int(text[5:]), 1), organization.timezone)
