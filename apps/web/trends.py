"""The finance page's trends: the month's dashboard (reports.selectors.dashboard_of_month) as the page
shows it, in the organization's currency and timezone, and the data its charts draw (finance_trends.js)."""

import zoneinfo
from datetime import date, timedelta

from apps.reports.dashboard import BurnDown, Change, Dashboard
from apps.reports.selectors import dashboard_of_month
from apps.tenancy.models import User
from ledgerx.money import format_money, to_decimal_string


def _signed_money(minor: int, currency: str) -> str:
    return ("+" if minor > 0 else "") + format_money(minor, currency)


def change_text(change: Change, currency: str) -> str:
    """ "+$500 (+125.0%)", "-$100 (-25.0%)", "+$250 (none last month)", "no change"."""
    if not change.change_minor:
        return "no change"
    if change.change_percent is None:
        return f"{_signed_money(change.change_minor, currency)} (none last month)"
    percent = f"{'+' if change.change_percent > 0 else ''}{change.change_percent}%"
    return f"{_signed_money(change.change_minor, currency)} ({percent})"


def runs_out_text(line: BurnDown) -> str:
    if line.exhaustion_date is None:
        return "Lasts the month"
    day = f"{line.exhaustion_date:%b} {line.exhaustion_date.day}"
    return f"Ran out {day}" if line.exhausted else f"Runs out {day} at this pace"


def stretches_text(board: Dashboard) -> str:
    """What the comparison compares: "October against September", or "Nov 1 to Nov 10, 12:00 against Oct 1 to Oct 10,
    12:00" in the organization's timezone for a month under way."""
    if board.month_over:
        previous = (board.month - timedelta(days=1)).replace(day=1)
        return f"{board.month:%B %Y} against {previous:%B %Y}"
    zone = zoneinfo.ZoneInfo(board.organization.timezone)
    comparison = board.comparison
    spans = [
        (comparison.current_start.astimezone(zone), comparison.current_end.astimezone(zone)),
        (comparison.previous_start.astimezone(zone), comparison.previous_end.astimezone(zone)),
    ]
    current, previous = (f"{_day_label(start)} to {_day_label(end)}, {end:%H:%M}" for start, end in spans)
    return f"{current} against {previous}"


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _projection(line: BurnDown, days_elapsed: int, days_in_month: int) -> list[int | None]:
    """The run rate from the last day begun to month end (spent x day / days begun), None before it."""
    if days_elapsed in (0, days_in_month):
        return [None] * days_in_month
    return [
        None if day < days_elapsed else (2 * line.spent_minor * day + days_elapsed) // (2 * days_elapsed)
        for day in range(1, days_in_month + 1)
    ]


def _burn_down_chart(board: Dashboard, currency: str) -> list[dict]:
    def text(values: list[int | None]) -> list[str | None]:
        return [None if value is None else to_decimal_string(value, currency) for value in values]

    return [
        {
            "name": line.department.name,
            "limit": to_decimal_string(line.limit_minor, currency),
            "spent": text([*line.cumulative_minor, *[None] * (board.days_in_month - board.days_elapsed)]),
            "projected": text(_projection(line, board.days_elapsed, board.days_in_month)),
        }
        for line in board.burn_down
    ]


def trends_context(user: User, month: date) -> dict:
    board = dashboard_of_month(organization=user.organization, month=month, viewer=user)
    organization = board.organization
    currency = organization.currency
    comparison = board.comparison
    return {
        "trends": board,
        "trends_as_of": board.as_of.astimezone(zoneinfo.ZoneInfo(organization.timezone)),
        "trends_stretches": stretches_text(board),
        "trends_total_change": change_text(comparison.total, currency),
        "trends_departments": [(line, change_text(line.change, currency)) for line in comparison.departments],
        "trends_categories": [(line, change_text(line.change, currency)) for line in comparison.categories],
        "trends_burn_down": [(line, runs_out_text(line)) for line in board.burn_down],
        "trends_chart_data": {
            "currency": currency,
            "months": {
                "labels": [f"{month:%b %Y}" for month, _ in board.months],
                "values": [to_decimal_string(spent, currency) for _, spent in board.months],
            },
            "days": [_day_label(board.month + timedelta(days=offset)) for offset in range(board.days_in_month)],
            "burn_down": _burn_down_chart(board, currency),
        },
    }
