"""One way to write dates and times for people, everywhere a page or the back office shows one.

Django reads its date formats from this package (FORMAT_MODULE_PATH; `en/formats.py`), so the admin's
columns, `{{ value|date }}` and these helpers all agree: "Mar 15, 2027" and "Mar 15, 2027, 10:00 EDT",
in the active timezone, which the back office sets to the organization's (apps/web/back_office.py).
"""

from datetime import date, datetime

from django.utils import formats, timezone


def date_text(value: date | None) -> str:
    """A day: "Mar 15, 2027"; an empty string for none."""
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def datetime_text(value: datetime | None) -> str:
    """An instant in the active timezone, with the zone named: "Mar 15, 2027, 10:00 EDT"."""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def month_label(value: date) -> str:
    """A budget month: "March 2027"."""
    return formats.date_format(value, "YEAR_MONTH_FORMAT")
