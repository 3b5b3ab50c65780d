"""Answers: a validated QuerySpec run as ORM queries over what the asking user may see.

Nothing here composes SQL. Every query starts from the ledger's `transactions_visible`
(organization first, then role: an employee sees their own spend and what guardian grants), or
from the organization's departments for budgets, so no filter in a spec can widen what is seen:
filters only ever narrow.
"""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from django.db.models import Avg, Count, DecimalField, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from apps.budgets.selectors import budget_periods_for
from apps.fraud.models import FraudAlert
from apps.ledger.models import Transaction
from apps.spending.selectors import transactions_visible
from apps.tenancy.models import Department, Organization, User
from apps.tenancy.permissions import FINANCE_ROLES
from apps.tenancy.selectors import department_subtree_ids, departments_with_spend_view
from ledgerx.errors import Forbidden
from ledgerx.money import to_decimal_string
from ledgerx.replica import reporting_reads

from .answers import Table, answer_for_people
from .parsing import QuestionParser, question_parse
from .sentences import spec_interpretation
from .spec import ALERT_METRICS, ME, TIME_GROUPS, GroupBy, Metric, QuerySpec

GROUP_FIELDS = {
    GroupBy.DEPARTMENT: ("department_id", "department__name"),
    GroupBy.CATEGORY: ("category",),
    GroupBy.MERCHANT: ("merchant",),
    GroupBy.EMPLOYEE: ("employee__email",),
}
TIME_TRUNCATIONS = {GroupBy.DAY: TruncDay, GroupBy.WEEK: TruncWeek, GroupBy.MONTH: TruncMonth}
# `original_amount`: the amount as spent with its currency ("123.45 EUR") where that was not the base
# currency `amount` is in; null where it was.
EXPENSE_COLUMNS = [
    "id",
    "date",
    "merchant",
    "category",
    "department",
    "employee",
    "status",
    "amount",
    "original_amount",
]
BUDGET_COLUMNS = ["department", "month", "limit", "spent", "available", "used_percent"]
ALERT_COLUMNS = ["id", "created_at", "rule", "status", "transaction", "merchant", "amount"]


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]


def query_answer(
    *, user: User, question: str, now: datetime | None = None, parsers: list[QuestionParser] | None = None
) -> dict[str, Any]:
    """The api.md answer to a question: interpretation, table, which parser, and whether cached."""
    if user.organization is None:
        raise Forbidden("Questions are answered within an organization.")
    parsed = question_parse(question=question, user=user, now=now or timezone.now(), parsers=parsers)
    with reporting_reads():
        result = query_execute(user=user, spec=parsed.spec)
    return {
        "interpretation": spec_interpretation(parsed.spec),
        "columns": result.columns,
        "rows": result.rows,
        "answer": answer_for_people(parsed.spec, Table(result.columns, result.rows), own_spend_only=_own_only(user)),
        "source": parsed.source,
        "cached": parsed.cached,
    }


def _own_only(user: User) -> bool:
    """An employee whom guardian grants no department sees her own spend and nothing else."""
    return user.role not in FINANCE_ROLES and not departments_with_spend_view(user=user).exists()


def query_execute(*, user: User, spec: QuerySpec) -> QueryResult:
    if spec.metric == Metric.BUDGET_USAGE:
        return _budget_usage(user=user, spec=spec)
    if spec.metric in ALERT_METRICS:
        return _fraud_alerts(user=user, spec=spec)
    spends = _spends(user=user, spec=spec)
    if spec.metric == Metric.LIST:
        return _expense_rows(spends, spec)
    if spec.group_by is None:
        return _single_value(spends, spec)
    return _grouped(spends, spec)


# -------------------------------------------------------------------------------------- spend


def _department_ids(organization: Organization, name: str) -> set[uuid.UUID]:
    """Departments of this organization with that name, and everything below them (as budgets count)."""
    ids: set[uuid.UUID] = set()
    for department_id in Department.objects.of(organization).filter(name__iexact=name).values_list("id", flat=True):
        ids.update(department_subtree_ids(department_id=department_id))
    return ids


def _spends(*, user: User, spec: QuerySpec, for_alerts: bool = False) -> QuerySet[Transaction]:
    """The visible spends the spec narrows to. For alerts, status and period belong to the alert."""
    spends = transactions_visible(user=user).filter(kind=Transaction.Kind.SPEND)
    filters = spec.filters
    if not for_alerts:
        if filters.status not in (None, "any"):
            spends = spends.filter(status=filters.status)
        start, end = spec.period.bounds(spec.timezone)
        if start is not None:
            spends = spends.filter(created_at__gte=start, created_at__lt=end)
    if filters.department:
        spends = spends.filter(department_id__in=_department_ids(user.organization, filters.department))
    # Names were resolved by the gate to the organization's own spellings (apps/nlq/vocabulary.py).
    if filters.category:
        spends = spends.filter(category__in=filters.categories)
    if filters.merchant:
        spends = spends.filter(merchant__in=filters.merchants)
    if filters.employee == ME:
        spends = spends.filter(employee=user)
    elif filters.employee:
        spends = spends.filter(employee__email__iexact=filters.employee)
    if filters.amount_min_minor is not None:
        spends = spends.filter(amount_minor__gte=filters.amount_min_minor)
    if filters.amount_max_minor is not None:
        spends = spends.filter(amount_minor__lte=filters.amount_max_minor)
    return spends


def _local_iso(moment: datetime, timezone_name: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(timezone_name)).isoformat(timespec="seconds")


def _expense_rows(spends: QuerySet[Transaction], spec: QuerySpec) -> QueryResult:
    sign = "-" if spec.order.direction == "desc" else ""
    first = "amount_minor" if spec.order.by == "amount" else "created_at"
    ordered = spends.order_by(f"{sign}{first}", f"{sign}created_at", f"{sign}id")
    rows = [
        [
            str(spend_id),
            _local_iso(created_at, spec.timezone),
            merchant,
            category,
            department,
            employee,
            status,
            to_decimal_string(amount_minor, currency),
            None
            if original_currency == currency
            else f"{to_decimal_string(original_minor, original_currency)} {original_currency}",
        ]
        for (
            spend_id,
            created_at,
            merchant,
            category,
            department,
            employee,
            status,
            amount_minor,
            currency,
            original_minor,
            original_currency,
        ) in (
            ordered.values_list(
                "id",
                "created_at",
                "merchant",
                "category",
                "department__name",
                "employee__email",
                "status",
                "amount_minor",
                "currency",
                "original_amount_minor",
                "original_currency",
            )[: spec.limit]
        )
    ]
    return QueryResult(EXPENSE_COLUMNS, rows)


def _rounded_average(total_minor: int, count: int) -> int:
    """Half-up to the minor unit, in integers: money never passes through a float."""
    return (2 * total_minor + count) // (2 * count)


def _measure(spec: QuerySpec, total_minor: int | None, count: int) -> Any:
    if spec.metric == Metric.COUNT:
        return count
    if spec.metric == Metric.AVERAGE:
        return None if count == 0 else to_decimal_string(_rounded_average(total_minor, count), spec.currency)
    return to_decimal_string(total_minor or 0, spec.currency)


def _single_value(spends: QuerySet[Transaction], spec: QuerySpec) -> QueryResult:
    totals = spends.aggregate(total=Sum("amount_minor"), count=Count("id"))
    return QueryResult([spec.metric.value], [[_measure(spec, totals["total"], totals["count"])]])


def _grouped(spends: QuerySet[Transaction], spec: QuerySpec) -> QueryResult:
    if spec.group_by in TIME_GROUPS:
        zone = zoneinfo.ZoneInfo(spec.timezone)
        spends = spends.annotate(bucket=TIME_TRUNCATIONS[spec.group_by]("created_at", tzinfo=zone))
        keys: tuple[str, ...] = ("bucket",)
    else:
        keys = GROUP_FIELDS[spec.group_by]
    groups = (
        spends.order_by()
        .values(*keys)
        .annotate(
            total=Sum("amount_minor"),
            count=Count("id"),
            # Only ranks groups inside PostgreSQL (numeric); the average shown is computed in integers.
            exact_average=Avg("amount_minor", output_field=DecimalField(max_digits=30, decimal_places=6)),
        )
    )
    sign = "-" if spec.order.direction == "desc" else ""
    label = keys[-1]
    if spec.order.by == "value":
        measure = {Metric.TOTAL: "total", Metric.COUNT: "count", Metric.AVERAGE: "exact_average"}[spec.metric]
        groups = groups.order_by(f"{sign}{measure}", label)
    else:
        groups = groups.order_by(f"{sign}{label}")
    rows = [
        [_group_label(spec, group[label]), _measure(spec, group["total"], group["count"])]
        for group in groups[: spec.limit]
    ]
    return QueryResult([spec.group_by.value, spec.metric.value], rows)


def _group_label(spec: QuerySpec, value: Any) -> str:
    if spec.group_by == GroupBy.MONTH:
        return value.strftime("%Y-%m")
    if spec.group_by in TIME_GROUPS:
        return value.date().isoformat()
    return value


# ------------------------------------------------------------------------------------- budgets


def _budget_departments(user: User) -> QuerySet[Department]:
    """Finance and admins see every department's budget; anyone else only what guardian grants.

    An employee's own department budget counts their colleagues' spend, so it is not shown here.
    """
    if user.role in FINANCE_ROLES:
        return Department.objects.of(user.organization)
    return departments_with_spend_view(user=user)


def _used_percent(spent_minor: int, limit_minor: int) -> str | None:
    if limit_minor == 0:
        return None
    tenths = (spent_minor * 2000 + limit_minor) // (2 * limit_minor)
    return f"{tenths // 10}.{tenths % 10}"


def _usage_rank(spent_minor: int, limit_minor: int) -> tuple[bool, Fraction]:
    """Exact share used; spend against a zero limit ranks above any share."""
    if limit_minor == 0:
        return spent_minor > 0, Fraction(0)
    return False, Fraction(spent_minor, limit_minor)


def _passes_usage(spec: QuerySpec, spent_minor: int, limit_minor: int) -> bool:
    over, under = spec.filters.usage_over_percent, spec.filters.usage_under_percent
    if over is not None and not (spent_minor > 0 if limit_minor == 0 else spent_minor * 100 > over * limit_minor):
        return False
    return under is None or (limit_minor > 0 and spent_minor * 100 < under * limit_minor)


def _budget_usage(*, user: User, spec: QuerySpec) -> QueryResult:
    departments = _budget_departments(user).order_by("name", "id")
    if spec.filters.department:
        departments = departments.filter(name__iexact=spec.filters.department)
    departments = list(departments)
    found = []
    for month in spec.period.months():
        periods = budget_periods_for(departments=departments, month=month)
        for department in departments:
            period = periods[department.id]
            if _passes_usage(spec, period.spent_minor, period.limit_minor):
                found.append((department.name, month, period.limit_minor, period.spent_minor))
    descending = spec.order.direction == "desc"
    if spec.order.by == "value":
        found.sort(key=lambda row: (_usage_rank(row[3], row[2]), *row[:2]), reverse=descending)
    else:
        found.sort(key=lambda row: row[:2], reverse=descending)
    currency = spec.currency
    rows = [
        [
            name,
            f"{month:%Y-%m}",
            to_decimal_string(limit_minor, currency),
            to_decimal_string(spent_minor, currency),
            to_decimal_string(max(limit_minor - spent_minor, 0), currency),
            _used_percent(spent_minor, limit_minor),
        ]
        for name, month, limit_minor, spent_minor in found[: spec.limit]
    ]
    return QueryResult(BUDGET_COLUMNS, rows)


# -------------------------------------------------------------------------------- fraud alerts


def _fraud_alerts(*, user: User, spec: QuerySpec) -> QueryResult:
    if user.role not in FINANCE_ROLES:
        raise Forbidden("Fraud alerts are for finance managers and org admins.")
    alerts = FraudAlert.objects.filter(transaction__in=_spends(user=user, spec=spec, for_alerts=True))
    if spec.filters.status not in (None, "any"):
        alerts = alerts.filter(status=spec.filters.status)
    start, end = spec.period.bounds(spec.timezone)
    if start is not None:
        alerts = alerts.filter(created_at__gte=start, created_at__lt=end)
    if spec.metric == Metric.FRAUD_ALERT_COUNT:
        return QueryResult([Metric.FRAUD_ALERT_COUNT.value], [[alerts.count()]])
    sign = "-" if spec.order.direction == "desc" else ""
    first = "transaction__amount_minor" if spec.order.by == "amount" else "created_at"
    alerts = alerts.order_by(f"{sign}{first}", f"{sign}created_at", f"{sign}pk")
    rows = [
        [
            str(alert_id),
            _local_iso(created_at, spec.timezone),
            rule,
            status,
            str(transaction_id),
            merchant,
            to_decimal_string(amount_minor, currency),
        ]
        for alert_id, created_at, rule, status, transaction_id, merchant, amount_minor, currency in alerts.values_list(
            "pk",
            "created_at",
            "rule",
            "status",
            "transaction_id",
            "transaction__merchant",
            "transaction__amount_minor",
            "transaction__currency",
        )[: spec.limit]
    ]
    return QueryResult(ALERT_COLUMNS, rows)
