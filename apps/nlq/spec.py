"""The query spec: what a question asks, validated before anything runs.

Both parsers produce a *draft*: a small JSON object (the shape Gemini is asked for, see
DRAFT_JSON_SCHEMA). `spec_from_draft` is the one gate between a draft and the executor: it
refuses unknown keys and impossible combinations, turns amounts into minor units and resolves
time words into absolute dates in the organization's timezone. A draft is input like any other.
"""

import calendar
import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from ledgerx.money import MoneyError, parse_amount

from .errors import SpecError
from .formats import format_day, format_span
from .vocabulary import Vocabulary


class Metric(StrEnum):
    LIST = "list"
    TOTAL = "total"
    COUNT = "count"
    AVERAGE = "average"
    BUDGET_USAGE = "budget_usage"
    FRAUD_ALERTS = "fraud_alerts"
    FRAUD_ALERT_COUNT = "fraud_alert_count"


class GroupBy(StrEnum):
    DEPARTMENT = "department"
    CATEGORY = "category"
    MERCHANT = "merchant"
    EMPLOYEE = "employee"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


TIME_GROUPS = (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH)
AGGREGATES = (Metric.TOTAL, Metric.COUNT, Metric.AVERAGE)
ALERT_METRICS = (Metric.FRAUD_ALERTS, Metric.FRAUD_ALERT_COUNT)
TRANSACTION_STATUSES = ("posted", "pending", "rejected", "reversed", "any")
ALERT_STATUSES = ("open", "resolved", "any")
# The employee filter value that means "the person asking".
ME = "me"
MAX_LIMIT = 200
MAX_TEXT = 100
MAX_BUDGET_MONTHS = 24
MAX_PERCENT = 1000

TEXT_FILTERS = ("department", "category", "merchant", "employee")
AMOUNT_FILTERS = ("amount_over", "amount_at_least", "amount_under", "amount_at_most")
USAGE_FILTERS = ("usage_over_percent", "usage_under_percent")
FILTER_KEYS = (*TEXT_FILTERS, "status", *AMOUNT_FILTERS, *USAGE_FILTERS)
DRAFT_KEYS = ("metric", "group_by", "filters", "period", "order", "limit")
PERIOD_KEYS = ("kind", "n", "month", "quarter", "year", "start", "end")
PERIOD_KINDS = (
    "all_time",
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "last_n_days",
    "last_n_weeks",
    "last_n_months",
    "month",
    "quarter",
    "year",
    "between",
    "since",
)
ORDER_BYS = ("amount", "date", "value", "label")
DIRECTIONS = ("asc", "desc")
ROLLING_LIMITS = {"last_n_days": 3660, "last_n_weeks": 520, "last_n_months": 120}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"anyOf": [{"type": kind, **extra}, {"type": "null"}]}


DRAFT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # Null when the question cannot be expressed in this schema.
        "metric": _nullable("string", enum=[m.value for m in Metric]),
        "group_by": _nullable("string", enum=[g.value for g in GroupBy]),
        "filters": {
            "type": "object",
            "properties": {
                **{name: _nullable("string") for name in TEXT_FILTERS},
                "status": _nullable("string", enum=sorted({*TRANSACTION_STATUSES, *ALERT_STATUSES})),
                **{
                    name: _nullable("string", description="decimal string in major units, e.g. 500.00")
                    for name in AMOUNT_FILTERS
                },
                **{name: _nullable("integer", minimum=0, maximum=MAX_PERCENT) for name in USAGE_FILTERS},
            },
        },
        "period": _nullable(
            "object",
            properties={
                "kind": {"type": "string", "enum": list(PERIOD_KINDS)},
                "n": _nullable("integer", minimum=1),
                "month": _nullable("integer", minimum=1, maximum=12),
                "quarter": _nullable("integer", minimum=1, maximum=4),
                "year": _nullable("integer", minimum=2000, maximum=2100),
                "start": _nullable("string", description="YYYY-MM-DD"),
                "end": _nullable("string", description="YYYY-MM-DD"),
            },
            required=["kind"],
        ),
        "order": _nullable(
            "object",
            properties={
                "by": {"type": "string", "enum": list(ORDER_BYS)},
                "direction": {"type": "string", "enum": list(DIRECTIONS)},
            },
            required=["by", "direction"],
        ),
        "limit": _nullable("integer", minimum=1, maximum=MAX_LIMIT),
    },
    "required": ["metric"],
}


@dataclass(frozen=True)
class ParseContext:
    """What a question is read against: the moment it is asked and the organization's settings."""

    now: datetime
    timezone: str
    currency: str
    department_names: tuple[str, ...] = ()
    # What names may be filtered on; without it a draft that names anything is refused.
    vocabulary: Vocabulary | None = None

    @property
    def today(self) -> date:
        return local_today(self.now, self.timezone)


@dataclass(frozen=True)
class Period:
    """Inclusive local dates; no start means all time."""

    label: str
    start: date | None = None
    end: date | None = None

    def bounds(self, timezone_name: str) -> tuple[datetime | None, datetime | None]:
        """The half-open instant range [start 00:00, day after end 00:00) in the given timezone."""
        if self.start is None or self.end is None:
            return None, None
        zone = zoneinfo.ZoneInfo(timezone_name)
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        month = self.start.replace(day=1)
        months = []
        while month <= self.end:
            months.append(month)
            month = add_months(month, 1)
        return months


@dataclass(frozen=True)
class Filters:
    department: str | None = None
    category: str | None = None
    merchant: str | None = None
    employee: str | None = None
    # The organization's own categories and merchants the category and merchant filters stand for.
    categories: tuple[str, ...] = ()
    merchants: tuple[str, ...] = ()
    status: str | None = None
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None
    usage_over_percent: int | None = None
    usage_under_percent: int | None = None


@dataclass(frozen=True)
class Order:
    by: str
    direction: str


@dataclass(frozen=True)
class QuerySpec:
    metric: Metric
    group_by: GroupBy | None
    filters: Filters
    period: Period
    order: Order | None
    limit: int | None
    currency: str
    timezone: str


# ---------------------------------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def local_today(now: datetime, timezone_name: str) -> date:
    return now.astimezone(zoneinfo.ZoneInfo(timezone_name)).date()


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _month_end(month_start: date) -> date:
    return add_months(month_start, 1) - timedelta(days=1)


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{name} must be a whole number.")
    if not low <= value <= high:
        raise SpecError(f"{name} must be between {low} and {high}.")
    return value


def _iso_date(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise SpecError(f"{name} must be a date written YYYY-MM-DD.")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SpecError(f"{name} must be a date written YYYY-MM-DD.") from None
    _int(day.year, f"The year of {name.lower()}", 2000, 2100)
    return day


def period_resolve(draft: Any, *, today: date, default_kind: str) -> Period:
    """Resolve a draft period ({"kind": ..., ...}) against the organization's local date."""
    if draft is None:
        draft = {"kind": default_kind}
    if not isinstance(draft, dict):
        raise SpecError("The time range must be an object.")
    unknown = sorted(set(draft) - set(PERIOD_KEYS))
    if unknown:
        raise SpecError(f"Unknown time range fields: {', '.join(unknown)}.")
    kind = draft.get("kind")
    if kind not in PERIOD_KINDS:
        raise SpecError(f"Unknown time range '{kind}'.")
    used = {key for key, value in draft.items() if value is not None and key != "kind"}
    allowed = {
        "last_n_days": {"n"},
        "last_n_weeks": {"n"},
        "last_n_months": {"n"},
        "month": {"month", "year"},
        "quarter": {"quarter", "year"},
        "year": {"year"},
        "between": {"start", "end"},
        "since": {"start"},
    }.get(kind, set())
    if used - allowed:
        raise SpecError(f"A '{kind}' time range does not take {', '.join(sorted(used - allowed))}.")

    if kind == "all_time":
        return Period("all time")
    if kind == "today":
        return Period("today", today, today)
    if kind == "yesterday":
        yesterday = today - timedelta(days=1)
        return Period("yesterday", yesterday, yesterday)
    if kind == "this_week":
        return Period("this week", today - timedelta(days=today.weekday()), today)
    if kind == "last_week":
        start = today - timedelta(days=today.weekday() + 7)
        return Period("last week", start, start + timedelta(days=6))
    if kind == "this_month":
        return Period("this month", today.replace(day=1), today)
    if kind == "last_month":
        start = add_months(today.replace(day=1), -1)
        return Period("last month", start, _month_end(start))
    if kind == "this_quarter":
        return Period("this quarter", _quarter_start(today), today)
    if kind == "last_quarter":
        start = add_months(_quarter_start(today), -3)
        return Period("last quarter", start, add_months(start, 3) - timedelta(days=1))
    if kind == "this_year":
        return Period("this year", date(today.year, 1, 1), today)
    if kind == "last_year":
        return Period("last year", date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    if kind in ROLLING_LIMITS:
        n = _int(draft.get("n"), "The number of days, weeks or months", 1, ROLLING_LIMITS[kind])
        unit = kind.removeprefix("last_n_")
        if kind == "last_n_months":
            start = add_months(today, -n) + timedelta(days=1)
        else:
            start = today - timedelta(days=(n * 7 if kind == "last_n_weeks" else n) - 1)
        return Period(f"last {n} {unit if n != 1 else unit[:-1]}", start, today)
    if kind == "month":
        month = _int(draft.get("month"), "The month", 1, 12)
        year = draft.get("year")
        if year is None:
            # A month named without a year is the most recent one that has begun.
            year = today.year if month <= today.month else today.year - 1
        start = date(_int(year, "The year", 2000, 2100), month, 1)
        return Period(f"{start:%B %Y}", start, _month_end(start))
    if kind == "quarter":
        quarter = _int(draft.get("quarter"), "The quarter", 1, 4)
        year = draft.get("year")
        if year is None:
            year = today.year if 3 * (quarter - 1) + 1 <= today.month else today.year - 1
        start = date(_int(year, "The year", 2000, 2100), 3 * (quarter - 1) + 1, 1)
        return Period(f"Q{quarter} {start.year}", start, add_months(start, 3) - timedelta(days=1))
    if kind == "year":
        year = _int(draft.get("year"), "The year", 2000, 2100)
        return Period(str(year), date(year, 1, 1), date(year, 12, 31))
    if kind == "since":
        start = _iso_date(draft.get("start"), "The start date")
        if start > today:
            raise SpecError("The start date is in the future.")
        return Period(f"since {format_day(start)}", start, today)
    start = _iso_date(draft.get("start"), "The start date")
    end = _iso_date(draft.get("end"), "The end date")
    if start > end:
        raise SpecError("The start date is after the end date.")
    return Period(format_span(start, end), start, end)


# ------------------------------------------------------------------------------------- the gate


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SpecError(f"The {name} filter must be text.")
    text = " ".join(value.split())
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise SpecError(f"The {name} filter is too long.")
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise SpecError(f"The {name} filter contains control characters.")
    return text


def _amount(value: Any, name: str, currency: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise SpecError(f'The {name} amount must be a decimal string such as "500.00".')
    try:
        return parse_amount(value.strip(), currency)
    except MoneyError as error:
        raise SpecError(f"The {name} amount: {error}") from None


def _amount_range(raw: dict[str, Any], currency: str) -> tuple[int | None, int | None]:
    over = _amount(raw.get("amount_over"), "over", currency)
    at_least = _amount(raw.get("amount_at_least"), "at least", currency)
    under = _amount(raw.get("amount_under"), "under", currency)
    at_most = _amount(raw.get("amount_at_most"), "at most", currency)
    if over is not None and at_least is not None:
        raise SpecError("Give one lower bound on the amount, not two.")
    if under is not None and at_most is not None:
        raise SpecError("Give one upper bound on the amount, not two.")
    # Integer minor units make "over $500" exactly "at least $500.01".
    low = over + 1 if over is not None else at_least
    high = under - 1 if under is not None else at_most
    if high is not None and high < 1:
        raise SpecError("No spend is below the smallest amount.")
    if low is not None and high is not None and low > high:
        raise SpecError("The amount range is empty: its lower bound is above its upper bound.")
    return low, high


def _order(raw: Any, *, metric: Metric, grouped: bool) -> Order | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"by", "direction"}:
        raise SpecError('The order must be {"by", "direction"}.')
    by, direction = raw.get("by"), raw.get("direction")
    if by not in ORDER_BYS or direction not in DIRECTIONS:
        raise SpecError(f"Order by one of {', '.join(ORDER_BYS)}, asc or desc.")
    if grouped:
        # In a table of groups, "largest" ranks by the measured value, "newest" by the group's label.
        by = {"amount": "value", "date": "label"}.get(by, by)
    elif by in ("value", "label"):
        by = "amount" if by == "value" else "date"
    return Order(by, direction)


def spec_from_draft(draft: Any, *, context: ParseContext) -> QuerySpec:
    """Validate a draft and resolve it into a QuerySpec; raise SpecError saying what is wrong."""
    currency = context.currency
    if not isinstance(draft, dict):
        raise SpecError("The query spec must be a JSON object.")
    unknown = sorted(set(draft) - set(DRAFT_KEYS))
    if unknown:
        raise SpecError(f"Unknown query fields: {', '.join(unknown)}.")
    try:
        metric = Metric(draft.get("metric"))
    except ValueError:
        raise SpecError(f"Unknown metric '{draft.get('metric')}'.") from None
    raw_group = draft.get("group_by")
    try:
        group_by = GroupBy(raw_group) if raw_group is not None else None
    except ValueError:
        raise SpecError(f"Cannot group by '{raw_group}'.") from None

    raw_filters = draft.get("filters") or {}
    if not isinstance(raw_filters, dict):
        raise SpecError("The filters must be an object.")
    unknown = sorted(set(raw_filters) - set(FILTER_KEYS))
    if unknown:
        raise SpecError(f"Unknown filters: {', '.join(unknown)}.")
    texts = {name: _text(raw_filters.get(name), name) for name in TEXT_FILTERS}
    if texts["employee"] is not None and texts["employee"].lower() == ME:
        texts["employee"] = ME
    names = {name: value for name, value in texts.items() if value is not None and value != ME}
    if names and context.vocabulary is None:
        raise SpecError("Names in a question cannot be checked here.")
    taken = {name for name, value in texts.items() if value is not None}
    resolved = context.vocabulary.resolve_all(names, taken=taken) if names else {}
    texts = {name: ME if texts[name] == ME else None for name in TEXT_FILTERS}
    texts.update({name: found.label for name, found in resolved.items()})
    matched = {name: resolved[name].values if name in resolved else () for name in ("category", "merchant")}
    amount_min, amount_max = _amount_range(raw_filters, currency)
    usage = {
        name: None if raw_filters.get(name) is None else _int(raw_filters[name], "A budget percentage", 0, MAX_PERCENT)
        for name in USAGE_FILTERS
    }
    status = raw_filters.get("status")
    used = {name for name in FILTER_KEYS if name not in TEXT_FILTERS and raw_filters.get(name) is not None}
    used |= {name for name in TEXT_FILTERS if texts[name] is not None}

    default_period = "all_time"
    if metric == Metric.BUDGET_USAGE:
        if group_by not in (None, GroupBy.DEPARTMENT):
            raise SpecError("Budget usage is shown per department and month; it cannot be grouped otherwise.")
        if used - {"department", *USAGE_FILTERS}:
            raise SpecError("Budget usage can be narrowed by department and by the share of budget used only.")
        group_by = GroupBy.DEPARTMENT
        default_period = "this_month"
    else:
        if used & set(USAGE_FILTERS):
            raise SpecError("A share of budget applies to budget usage only.")
        allowed_statuses = ALERT_STATUSES if metric in ALERT_METRICS else TRANSACTION_STATUSES
        if status is None:
            status = "any" if metric in ALERT_METRICS else "posted"
        if status not in allowed_statuses:
            raise SpecError(f"Status must be one of {', '.join(allowed_statuses)}.")
        if metric in (Metric.LIST, *ALERT_METRICS) and group_by is not None:
            raise SpecError(f"{'Fraud alerts' if metric in ALERT_METRICS else 'A list of expenses'} cannot be grouped.")

    period = period_resolve(draft.get("period"), today=context.today, default_kind=default_period)
    if metric == Metric.BUDGET_USAGE:
        if period.start is None:
            raise SpecError("Budget usage needs a time range of months.")
        if len(period.months()) > MAX_BUDGET_MONTHS:
            raise SpecError(f"Budget usage covers at most {MAX_BUDGET_MONTHS} months at a time.")

    raw_limit = draft.get("limit")
    limit = None if raw_limit is None else _int(raw_limit, "The limit", 1, MAX_LIMIT)
    grouped = group_by is not None
    order = _order(draft.get("order"), metric=metric, grouped=grouped)
    if metric in (*AGGREGATES, Metric.FRAUD_ALERT_COUNT) and not grouped:
        # A single number has nothing to order or cut.
        order, limit = None, None
    else:
        if order is None:
            if not grouped:
                order = Order("date", "desc")
            elif group_by in TIME_GROUPS:
                order = Order("label", "asc")
            else:
                order = Order("value", "desc")
        if limit is None:
            limit = 50 if metric in (Metric.LIST, Metric.FRAUD_ALERTS) else 100

    return QuerySpec(
        metric=metric,
        group_by=group_by,
        filters=Filters(
            **texts,
            categories=matched["category"],
            merchants=matched["merchant"],
            status=status,
            amount_min_minor=amount_min,
            amount_max_minor=amount_max,
            **usage,
        ),
        period=period,
        order=order,
        limit=limit,
        currency=currency,
        timezone=context.timezone,
    )
