"""An answer for people: the executor's table with money, dates and labels written out, one sentence
saying what was computed, words for an empty result, and a chart where the answer is a series or a
breakdown. The API returns it beside the raw table (docs/api.md, `answer`); the page renders it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerx.money import currency_exponent, format_money

from .formats import format_day, format_month, label_of
from .sentences import describe
from .spec import TIME_GROUPS, GroupBy, Metric, QuerySpec

HEADERS = {
    "date": "Date",
    "created_at": "Raised",
    "merchant": "Merchant",
    "category": "Category",
    "department": "Department",
    "employee": "Employee",
    "status": "Status",
    "amount": "Amount",
    "original_amount": "As spent",
    "total": "Total spend",
    "count": "Number of expenses",
    "average": "Average expense",
    "fraud_alert_count": "Number of fraud alerts",
    "day": "Day",
    "week": "Week of",
    "month": "Month",
    "limit": "Budget",
    "spent": "Spent",
    "available": "Available",
    "used_percent": "Used (spent plus held)",
    "rule": "Rule",
}
# Identifiers mean nothing to a reader; the raw `rows` keep them for programs.
HIDDEN_COLUMNS = frozenset({"id", "transaction"})
# Shown only where some row has one: the amount as spent exists only for spend in another currency.
OPTIONAL_COLUMNS = frozenset({"original_amount"})
MONEY_COLUMNS = frozenset({"amount", "total", "average", "limit", "spent", "available"})
LABEL_COLUMNS = frozenset({"status", "rule"})
GROUP_NOUNS = {
    GroupBy.DEPARTMENT: ("department", "departments"),
    GroupBy.CATEGORY: ("category", "categories"),
    GroupBy.MERCHANT: ("merchant", "merchants"),
    GroupBy.EMPLOYEE: ("person", "people"),
    GroupBy.DAY: ("day", "days"),
    GroupBy.WEEK: ("week", "weeks"),
    GroupBy.MONTH: ("month", "months"),
}


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]


def _minor(decimal_text: str, currency: str) -> int:
    return int(Decimal(decimal_text).scaleb(currency_exponent(currency)))


def _cell(column: str, value: Any, spec: QuerySpec) -> str:
    if value is None:
        return "—"
    if column in MONEY_COLUMNS:
        return format_money(_minor(value, spec.currency), spec.currency)
    if column in ("date", "created_at"):
        return format_day(date.fromisoformat(value[:10]))
    if column == "month":
        return format_month(date.fromisoformat(f"{value}-01"))
    if column in ("day", "week"):
        return format_day(date.fromisoformat(value))
    if column == "used_percent":
        return f"{value}%"
    if column in LABEL_COLUMNS:
        return label_of(value)
    if column in ("count", "fraud_alert_count"):
        return f"{value:,}"
    return str(value)


def _chart(spec: QuerySpec, table: Table) -> dict[str, Any] | None:
    """A series (per day/week/month) as a line, a breakdown as bars; budgets as bars of the share used."""
    if not table.rows:
        return None
    if spec.metric == Metric.BUDGET_USAGE:
        if len(spec.period.months()) != 1:
            return None
        values = [row[5] for row in table.rows]
        if None in values:
            return None
        return {"kind": "bar", "labels": [row[0] for row in table.rows], "values": values, "unit": "percent"}
    if spec.group_by is None or spec.metric not in (Metric.TOTAL, Metric.COUNT, Metric.AVERAGE):
        return None
    if len(table.rows) < 2 and spec.group_by not in TIME_GROUPS:
        return None
    label_column = table.columns[0]
    return {
        "kind": "line" if spec.group_by in TIME_GROUPS else "bar",
        "labels": [_cell(label_column, row[0], spec) for row in table.rows],
        "values": [None if row[1] is None else str(row[1]) for row in table.rows],
        "unit": "count" if spec.metric == Metric.COUNT else "money",
    }


def _result_words(spec: QuerySpec, table: Table, cells: list[list[str]]) -> str:
    count = len(table.rows)
    if spec.metric in (Metric.TOTAL, Metric.COUNT, Metric.AVERAGE, Metric.FRAUD_ALERT_COUNT) and not spec.group_by:
        # An average of no expenses has no value.
        return "no expenses matched" if table.rows[0][0] is None else cells[0][0]
    if spec.group_by is not None and spec.metric != Metric.BUDGET_USAGE:
        singular, plural = GROUP_NOUNS[spec.group_by]
        if count == 1 and spec.group_by not in TIME_GROUPS:
            return f"{cells[0][0]} ({cells[0][1]})"
        return f"{count} {singular if count == 1 else plural}"
    if spec.metric == Metric.BUDGET_USAGE:
        return f"{count} department-month{'s' if count != 1 else ''}"
    noun = "fraud alert" if spec.metric == Metric.FRAUD_ALERTS else "expense"
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _empty_words(spec: QuerySpec) -> str:
    if spec.metric == Metric.BUDGET_USAGE:
        return "No department's budget matches this question."
    if spec.metric == Metric.FRAUD_ALERTS:
        return "No fraud alerts match this question."
    return "No expenses match this question."


def answer_for_people(spec: QuerySpec, table: Table, *, own_spend_only: bool) -> dict[str, Any]:
    """The api.md `answer`: sentence, headers, formatted rows, `empty` words and `chart`."""
    shown = [
        index
        for index, column in enumerate(table.columns)
        if column not in HIDDEN_COLUMNS
        and not (column in OPTIONAL_COLUMNS and all(row[index] is None for row in table.rows))
    ]
    headers = [HEADERS.get(table.columns[index], label_of(table.columns[index])) for index in shown]
    cells = [[_cell(table.columns[index], row[index], spec) for index in shown] for row in table.rows]
    computed = describe(spec).rstrip(".")
    if own_spend_only:
        computed += ", over your own spend (the only spend you can see)"
    empty = None
    if not table.rows:
        empty = _empty_words(spec)
        sentence = f"{computed}: nothing matched."
    else:
        sentence = f"{computed}: {_result_words(spec, table, cells)}."
    single_value = spec.group_by is None and spec.metric in (
        Metric.TOTAL,
        Metric.COUNT,
        Metric.AVERAGE,
        Metric.FRAUD_ALERT_COUNT,
    )
    return {
        "sentence": sentence,
        "headers": headers,
        "rows": cells,
        "value": cells[0][0] if single_value and cells else None,
        "empty": empty,
        "chart": _chart(spec, table),
    }
