"""Reads of spend: what a user may see, the filtered list, the month's reports, and the sums the finance
dashboard compares (done in SQL: one grouped query each, whatever the number of spends)."""

import uuid
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.fraud.selectors import transaction_alerts_prefetch
from apps.ledger.models import CREDIT_ACCOUNT_OF_KIND, Transaction
from apps.tenancy.models import Organization, Role, User
from apps.tenancy.selectors import departments_with_spend_view
from ledgerx.errors import InvalidInput
from ledgerx.money import MoneyError, parse_amount
from ledgerx.months import month_following

from .filters import TransactionFilter


def transactions_visible(*, user: User) -> QuerySet[Transaction]:
    """Finance and admins see the organization's spend; an employee their own, plus what guardian grants."""
    transactions = (
        Transaction.objects.of(user.organization)
        .select_related("department", "employee", "reversal_of")
        .prefetch_related(transaction_alerts_prefetch())
    )
    if user.role in (Role.FINANCE_MANAGER, Role.ORG_ADMIN):
        return transactions
    granted = departments_with_spend_view(user=user)
    return transactions.filter(Q(employee=user) | Q(department__in=granted))


def transaction_list(
    *,
    user: User,
    status: str | None = None,
    kind: str | None = None,
    department_id: uuid.UUID | None = None,
    employee_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    merchant: str | None = None,
    category: str | None = None,
    min_amount: str | None = None,
    max_amount: str | None = None,
    ordering: str | None = None,
) -> QuerySet[Transaction]:
    """What `user` may see, filtered; newest first unless `ordering` (one of filters.ORDERINGS) says otherwise.

    `min_amount`/`max_amount` are decimal strings in the organization's currency, both inclusive.
    """
    currency = user.organization.currency
    given = {
        "status": status,
        "kind": kind,
        "department": department_id,
        "employee": employee_id,
        "since": since,
        "until": until,
        "merchant": merchant,
        "category": category,
        "min_amount_minor": None if min_amount is None else _minor(min_amount, currency, "min_amount"),
        "max_amount_minor": None if max_amount is None else _minor(max_amount, currency, "max_amount"),
        "ordering": ordering,
    }
    filterset = TransactionFilter(
        {name: value for name, value in given.items() if value is not None},
        queryset=transactions_visible(user=user).order_by("-created_at", "-id"),
    )
    if not filterset.is_valid():
        raise InvalidInput("The filters are not valid.", fields=filterset.errors)
    transactions = filterset.qs
    if ordering:  # ties broken by id, in the same direction, so that a cursor walks them in a stable order
        transactions = transactions.order_by(*transactions.query.order_by, "-id" if ordering[0] == "-" else "id")
    return transactions


def _minor(text: str, currency: str, field_name: str) -> int:
    try:
        return parse_amount(text, currency, allow_zero=True)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field_name: [str(error)]}) from None


def _spend_counting_against(*, user: User, month: date) -> QuerySet[Transaction]:
    """The month's spend as it stands now: posted and not reversed, as far as `user` may see."""
    return transactions_visible(user=user).filter(
        kind=Transaction.Kind.SPEND, status=Transaction.Status.POSTED, budget_month=month
    )


def spend_per_day(*, user: User, month: date) -> list[dict[str, Any]]:
    """Posted spend per day of the month in the organization's timezone, zero-filled up to today."""
    zone = zoneinfo.ZoneInfo(user.organization.timezone)
    totals = dict(
        _spend_counting_against(user=user, month=month)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(total=Sum("amount_minor"))
        .values_list("day", "total")
        .order_by()
    )
    last_day = min(timezone.now().astimezone(zone).date(), month_following(month) - timedelta(days=1))
    days = [month + timedelta(days=offset) for offset in range((last_day - month).days + 1)]
    return [{"day": day, "total_minor": totals.get(day, 0)} for day in days]


def spend_by_category(*, user: User, month: date) -> list[dict[str, Any]]:
    """Posted spend of the month per category, largest first."""
    return list(
        _spend_counting_against(user=user, month=month)
        .values("category")
        .annotate(total_minor=Sum("amount_minor"), count=Count("id"))
        .order_by("-total_minor", "category")
    )


def top_merchants(*, user: User, month: date, limit: int = 5) -> list[dict[str, Any]]:
    """The merchants that took the most posted spend this month."""
    return list(
        _spend_counting_against(user=user, month=month)
        .values("merchant")
        .annotate(total_minor=Sum("amount_minor"), count=Count("id"))
        .order_by("-total_minor", "merchant")[:limit]
    )


def _spend_counting_in_budgets(*, organization: Organization) -> QuerySet[Transaction]:
    """What budgets count as spent: every kind that settles against a budget (spends, claims, bills), posted
    and not reversed (a reversal leaves its original REVERSED and releases its budget)."""
    return Transaction.objects.of(organization).filter(
        kind__in=list(CREDIT_ACCOUNT_OF_KIND), status=Transaction.Status.POSTED
    )


def spend_totals_between(*, organization: Organization, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Spend accepted in [start, end), per department and category: department_id, category, total_minor, count."""
    return list(
        _spend_counting_in_budgets(organization=organization)
        .filter(created_at__gte=start, created_at__lt=end)
        .values("department_id", "category")
        .annotate(total_minor=Sum("amount_minor"), count=Count("id"))
        .order_by("department_id", "category")
    )


def spend_per_month(*, organization: Organization, first_month: date, last_month: date) -> dict[date, int]:
    """Spend per budget month from `first_month` to `last_month`, both included, zero-filled."""
    totals = dict(
        _spend_counting_in_budgets(organization=organization)
        .filter(budget_month__gte=first_month, budget_month__lte=last_month)
        .values("budget_month")
        .annotate(total=Sum("amount_minor"))
        .values_list("budget_month", "total")
        .order_by()
    )
    months = [first_month]
    while months[-1] < last_month:
        months.append(month_following(months[-1]))
    return {month: totals.get(month, 0) for month in months}


def spend_per_department_day(*, organization: Organization, month: date) -> dict[tuple[uuid.UUID, date], int]:
    """The month's spend per department booked to it (not its sub-departments) and day in the organization's
    timezone, keyed by (department_id, day); days without spend are absent."""
    zone = zoneinfo.ZoneInfo(organization.timezone)
    rows = (
        _spend_counting_in_budgets(organization=organization)
        .filter(budget_month=month)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("department_id", "day")
        .annotate(total=Sum("amount_minor"))
        .values_list("department_id", "day", "total")
        .order_by()
    )
    return {(department_id, day): total for department_id, day, total in rows}
