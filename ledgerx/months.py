"""Calendar months, what budgets, closes, trial balances and exports count in: written YYYY-MM, held as the
date of their first day, bounded in an organization's timezone. The one parser and the one arithmetic."""

import re
import zoneinfo
from datetime import date, datetime, time

from .errors import InvalidInput

# Exactly as written: strptime would also take "2025-3".
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
# No ledger is older than the Unix epoch (and an instant before a month of year 1 is no datetime); a month
# of 9999 has no following month to end it.
_YEARS = range(1970, 9999)


def month_parse(text: object, *, field: str = "month") -> date:
    """The month `text` writes as YYYY-MM, as its first day; a clear 400 naming `field` otherwise."""
    if not isinstance(text, str) or not _MONTH.fullmatch(text) or int(text[:4]) not in _YEARS:
        raise InvalidInput(
            f"A {field} is written YYYY-MM, from 1970 on.", fields={field: ["Use YYYY-MM, from 1970 on."]}
        )
    return date(int(text[:4]), int(text[5:]), 1)


def month_text(month: date) -> str:
    """The inverse of month_parse. Spelled out: strftime's %Y does not pad years before 1000."""
    return f"{month.year:04d}-{month.month:02d}"


def month_following(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_start(moment: datetime, timezone_name: str) -> date:
    """The first day of the month `moment` falls in, in the timezone `timezone_name`."""
    return moment.astimezone(zoneinfo.ZoneInfo(timezone_name)).date().replace(day=1)


def month_bounds(month: date, timezone_name: str) -> tuple[datetime, datetime]:
    """The month in the timezone `timezone_name`: its first instant and the first instant after it."""
    zone = zoneinfo.ZoneInfo(timezone_name)
    return datetime.combine(month, time(), zone), datetime.combine(month_following(month), time(), zone)
