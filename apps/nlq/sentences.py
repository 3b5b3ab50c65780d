"""A validated QuerySpec in words and as the API's `interpretation` object."""

from typing import Any

from ledgerx.money import format_money, to_decimal_string

from .formats import format_span
from .spec import ME, TEXT_FILTERS, USAGE_FILTERS, Metric, QuerySpec

_METRIC_WORDS = {
    Metric.LIST: "{status}expenses",
    Metric.TOTAL: "total {status}spend",
    Metric.COUNT: "number of {status}expenses",
    Metric.AVERAGE: "average {status}expense",
    Metric.BUDGET_USAGE: "share of budget used (spent plus held)",
    Metric.FRAUD_ALERTS: "{status}fraud alerts",
    Metric.FRAUD_ALERT_COUNT: "number of {status}fraud alerts",
}
_ORDER_WORDS = {
    ("amount", "desc"): "largest first",
    ("amount", "asc"): "smallest first",
    ("date", "desc"): "newest first",
    ("date", "asc"): "oldest first",
    ("value", "desc"): "highest first",
    ("value", "asc"): "lowest first",
    ("label", "asc"): "in order",
    ("label", "desc"): "in reverse order",
}


def _names(label: str, values: tuple[str, ...]) -> str:
    if values == (label,) or not values:
        return label
    return f"{label} ({', '.join(values)})"


def describe(spec: QuerySpec) -> str:
    """The interpretation in one sentence, shown beside the answer."""
    filters = spec.filters
    status = "" if filters.status in (None, "any") else f"{filters.status} "
    head = _METRIC_WORDS[spec.metric].format(status=status)
    parts = []
    if spec.group_by:
        parts.append(f"per {spec.group_by.value}")
    if filters.department:
        parts.append(f"in department '{filters.department}'")
    if filters.category:
        parts.append(f"in category '{_names(filters.category, filters.categories)}'")
    if filters.merchant:
        parts.append(f"at merchant '{_names(filters.merchant, filters.merchants)}'")
    if filters.employee:
        parts.append("yours only" if filters.employee == ME else f"by employee '{filters.employee}'")
    if filters.amount_min_minor is not None:
        parts.append(f"of at least {format_money(filters.amount_min_minor, spec.currency)}")
    if filters.amount_max_minor is not None:
        parts.append(f"of at most {format_money(filters.amount_max_minor, spec.currency)}")
    if filters.usage_over_percent is not None:
        parts.append(f"over {filters.usage_over_percent}% of budget")
    if filters.usage_under_percent is not None:
        parts.append(f"under {filters.usage_under_percent}% of budget")
    period = spec.period
    if period.start is None:
        parts.append("over all time")
    else:
        span = format_span(period.start, period.end)
        parts.append(f"{period.label} ({span})" if period.label != span else span)
    if spec.order:
        parts.append(_ORDER_WORDS[(spec.order.by, spec.order.direction)])
    if spec.limit:
        parts.append(f"at most {spec.limit} row{'s' if spec.limit != 1 else ''}")
    return head[0].upper() + head[1:] + "".join(f", {part}" for part in parts) + "."


def spec_interpretation(spec: QuerySpec) -> dict[str, Any]:
    """The api.md `interpretation`: the spec as JSON, with the sentence that says it."""
    filters: dict[str, Any] = {
        name: getattr(spec.filters, name)
        for name in (*TEXT_FILTERS, "status", *USAGE_FILTERS)
        if getattr(spec.filters, name) is not None
    }
    bounds = {"amount_min": spec.filters.amount_min_minor, "amount_max": spec.filters.amount_max_minor}
    for name, minor in bounds.items():
        if minor is not None:
            filters[name] = to_decimal_string(minor, spec.currency)
    return {
        "metric": spec.metric.value,
        "group_by": spec.group_by.value if spec.group_by else None,
        "filters": filters,
        "period": {
            "label": spec.period.label,
            "start": spec.period.start.isoformat() if spec.period.start else None,
            "end": spec.period.end.isoformat() if spec.period.end else None,
            "timezone": spec.timezone,
        },
        "order": {"by": spec.order.by, "direction": spec.order.direction} if spec.order else None,
        "limit": spec.limit,
        "currency": spec.currency,
        "summary": describe(spec),
    }
