"""The finance dashboard of a month: this month against the last, six months of spend, and each department's
budget burn-down with a forecast to month end from the pace so far.

Days and months are the organization's, in its timezone. Spend is what budgets count: spends and claims
posted and not reversed (apps/spending/selectors.py sums it in SQL); money is the organization's currency.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from apps.budgets.selectors import BudgetLine
from apps.tenancy.models import Department, Organization
from ledgerx.months import month_bounds, month_following

# The spend chart's months, the dashboard's own included.
TREND_MONTHS = 6


@dataclass(frozen=True)
class Change:
    """One figure this month and last, over the same stretch of each."""

    current_minor: int
    previous_minor: int

    @property
    def change_minor(self) -> int:
        return self.current_minor - self.previous_minor

    @property
    def change_percent(self) -> Decimal | None:
        """The change against last month, in percent to one decimal; None when last month had nothing."""
        if not self.previous_minor:
            return None
        return (Decimal(self.change_minor * 100) / Decimal(self.previous_minor)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_EVEN
        )


@dataclass(frozen=True)
class ComparisonLine:
    label: str
    change: Change
    department: Department | None = None


@dataclass(frozen=True)
class Comparison:
    """This month from its start to now (or its end) against last month over as long a stretch."""

    current_start: datetime
    current_end: datetime
    previous_start: datetime
    previous_end: datetime
    total: Change
    departments: tuple[ComparisonLine, ...]
    categories: tuple[ComparisonLine, ...]


@dataclass(frozen=True)
class BurnDown:
    """A department's budget (its sub-departments' spend included, as its limit counts) through the month."""

    department: Department
    depth: int
    limit_minor: int
    spent_minor: int
    held_minor: int
    # Spent at the end of each day of the month so far.
    cumulative_minor: tuple[int, ...]
    pace_minor_per_day: int
    forecast_minor: int
    # The day the limit was reached (exhausted) or, at this pace, will be; None if it lasts the month.
    exhaustion_date: date | None
    exhausted: bool

    @property
    def over_forecast(self) -> bool:
        return self.forecast_minor > self.limit_minor


@dataclass(frozen=True)
class Dashboard:
    organization: Organization
    month: date
    as_of: datetime
    days_in_month: int
    days_elapsed: int
    comparison: Comparison
    # (month, spend) for the TREND_MONTHS months ending with this one.
    months: tuple[tuple[date, int], ...]
    burn_down: tuple[BurnDown, ...]

    @property
    def month_over(self) -> bool:
        return self.days_elapsed == self.days_in_month


def month_days(month: date, now: datetime, timezone_name: str) -> tuple[int, int]:
    """The month's number of days and how many of them have begun by `now`, in the timezone's calendar."""
    days_in_month = (month_following(month) - month).days
    today = now.astimezone(zoneinfo.ZoneInfo(timezone_name)).date()
    return days_in_month, max(0, min(days_in_month, (today - month).days + 1))


def _rounded_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves up: integers only, no float on money."""
    return (2 * numerator + denominator) // (2 * denominator)


def forecast_minor(spent_minor: int, days_elapsed: int, days_in_month: int) -> int:
    """Spend at month end if the pace so far (spent over the days begun, today included) holds."""
    if days_elapsed == 0:
        return spent_minor
    return _rounded_ratio(spent_minor * days_in_month, days_elapsed)


def exhaustion(
    *, month: date, limit_minor: int, cumulative_minor: tuple[int, ...], days_in_month: int
) -> tuple[date | None, bool]:
    """The day the limit was reached (True), else the day it will be at the pace so far (False), else None.

    Reached means the spend came to the limit: nothing more fits (a budget holds while spent <= limit)."""
    for offset, spent in enumerate(cumulative_minor):
        if spent and spent >= limit_minor:
            return month + timedelta(days=offset), True
    days_elapsed = len(cumulative_minor)
    spent = cumulative_minor[-1] if cumulative_minor else 0
    if not spent or days_elapsed == days_in_month:
        return None, False
    # The first day n (1-based) with spent / days_elapsed * n >= limit, in integers.
    day = -(-limit_minor * days_elapsed // spent)
    return (month + timedelta(days=day - 1), False) if day <= days_in_month else (None, False)


def comparison_spans(month: date, now: datetime, timezone_name: str) -> tuple[datetime, datetime, datetime, datetime]:
    """This month's stretch so far and last month's as long a one, by the wall clock of the timezone: on
    the 4th at 10:00 it is the 1st 00:00 to the 4th 10:00 of each (last month capped at its end). A month
    that is over is compared whole with the whole month before it."""
    zone = zoneinfo.ZoneInfo(timezone_name)
    previous = (month - timedelta(days=1)).replace(day=1)
    current_start, current_end = month_bounds(month, timezone_name)
    previous_start, previous_end = month_bounds(previous, timezone_name)
    if now < current_end:
        current_end = now
        elapsed = now.astimezone(zone).replace(tzinfo=None) - datetime.combine(month, time())
        previous_end = min(previous_end, (datetime.combine(previous, time()) + elapsed).replace(tzinfo=zone))
    return current_start, current_end, previous_start, previous_end


def comparison_build(
    *,
    spans: tuple[datetime, datetime, datetime, datetime],
    lines: list[BudgetLine],
    current_rows: list[dict],
    previous_rows: list[dict],
) -> Comparison:
    """Per department (spend booked to it) and per category, from spend_totals_between's rows of each stretch."""

    def totals(rows: list[dict], key: str) -> dict:
        summed: dict = {}
        for row in rows:
            summed[row[key]] = summed.get(row[key], 0) + row["total_minor"]
        return summed

    current_departments, previous_departments = (
        totals(current_rows, "department_id"),
        totals(previous_rows, "department_id"),
    )
    current_categories, previous_categories = totals(current_rows, "category"), totals(previous_rows, "category")
    departments = tuple(
        ComparisonLine(
            label=line.department.name,
            department=line.department,
            change=Change(
                current_departments.get(line.department.id, 0), previous_departments.get(line.department.id, 0)
            ),
        )
        for line in lines
    )
    categories = sorted(
        (
            ComparisonLine(
                label=category, change=Change(current_categories.get(category, 0), previous_categories.get(category, 0))
            )
            for category in set(current_categories) | set(previous_categories)
        ),
        key=lambda line: (-line.change.current_minor, -line.change.previous_minor, line.label),
    )
    return Comparison(
        *spans,
        total=Change(sum(current_departments.values()), sum(previous_departments.values())),
        departments=departments,
        categories=tuple(categories),
    )


def burn_down_build(
    *, month: date, lines: list[BudgetLine], per_department_day: dict, days_in_month: int, days_elapsed: int
) -> tuple[BurnDown, ...]:
    """Each department's burn-down from spend_per_department_day, its sub-departments' spend rolled up the
    tree (`lines` is depth-first: a department's descendants are the deeper lines right after it)."""
    days = [month + timedelta(days=offset) for offset in range(days_elapsed)]
    own_daily = {
        line.department.id: [per_department_day.get((line.department.id, day), 0) for day in days] for line in lines
    }
    burn_down = []
    for index, line in enumerate(lines):
        subtree = [line.department.id]
        for later in lines[index + 1 :]:
            if later.depth <= line.depth:
                break
            subtree.append(later.department.id)
        daily = [sum(own_daily[department_id][offset] for department_id in subtree) for offset in range(days_elapsed)]
        cumulative, running = [], 0
        for amount in daily:
            running += amount
            cumulative.append(running)
        limit = line.period.limit_minor
        exhaustion_date, exhausted = exhaustion(
            month=month, limit_minor=limit, cumulative_minor=tuple(cumulative), days_in_month=days_in_month
        )
        burn_down.append(
            BurnDown(
                department=line.department,
                depth=line.depth,
                limit_minor=limit,
                spent_minor=running,
                held_minor=line.period.held_minor,
                cumulative_minor=tuple(cumulative),
                pace_minor_per_day=_rounded_ratio(running, days_elapsed) if days_elapsed else 0,
                forecast_minor=forecast_minor(running, days_elapsed, days_in_month),
                exhaustion_date=exhaustion_date,
                exhausted=exhausted,
            )
        )
    return tuple(burn_down)
