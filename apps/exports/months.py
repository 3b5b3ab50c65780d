"""The month an export covers: a calendar month of whole days in the organization's timezone."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from apps.tenancy.models import Organization
from ledgerx.months import month_bounds, month_following, month_parse


@dataclass(frozen=True)
class Month:
    first_day: date
    timezone_name: str

    @property
    def label(self) -> str:
        return self.first_day.strftime("%Y-%m")

    @property
    def following_first_day(self) -> date:
        return month_following(self.first_day)

    @property
    def starts_at(self) -> datetime:
        return month_bounds(self.first_day, self.timezone_name)[0]

    @property
    def ends_at(self) -> datetime:
        """The first instant after the month."""
        return month_bounds(self.first_day, self.timezone_name)[1]

    @property
    def stamp(self) -> datetime:
        """The one moment a file of this month states (XLSX metadata): its end, so no export carries a clock."""
        return datetime.combine(self.following_first_day, time(), UTC)


def export_month(*, organization: Organization, text: str) -> Month:
    return Month(month_parse(text), organization.timezone)
