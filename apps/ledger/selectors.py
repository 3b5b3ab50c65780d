import uuid
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.budgets.services import next_month
from apps.fraud.selectors import transaction_alerts_prefetch
from apps.tenancy.models import Organization, Role, User
from apps.tenancy.selectors import departments_with_spend_view

from .chain import chain_check
from .models import Entry, Transaction

LEDGER_TRIGGERS = (
    "ledger_entry_immutable",
    "ledger_entry_no_truncate",
    "ledger_entry_balanced",
    "ledger_entryseal_immutable",
    "ledger_entryseal_no_truncate",
)
STUCK_PENDING_AFTER = timedelta(minutes=2)


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
    department_id: uuid.UUID | None = None,
    employee_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Transaction]:
    transactions = transactions_visible(user=user)
    if status:
        transactions = transactions.filter(status=status)
    if department_id:
        transactions = transactions.filter(department_id=department_id)
    if employee_id:
        transactions = transactions.filter(employee_id=employee_id)
    if since:
        transactions = transactions.filter(created_at__gte=since)
    if until:
        transactions = transactions.filter(created_at__lt=until)
    return transactions.order_by("-created_at", "-id")


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
    last_day = min(timezone.now().astimezone(zone).date(), next_month(month) - timedelta(days=1))
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


def entry_list(*, organization: Organization, transaction_id: uuid.UUID | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.of(organization).select_related("account", "seal")
    if transaction_id:
        entries = entries.filter(transaction_id=transaction_id)
    return entries.order_by("id")


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ledger_verify(*, organization: Organization | None = None) -> dict[str, Any]:
    """Check every invariant of the ledger against the database. `ok` is False when any problem is found."""
    scope = "" if organization is None else "AND {alias}.organization_id = %s"
    params = [] if organization is None else [organization.id]

    def where(alias: str) -> str:
        return scope.format(alias=alias)

    problems: list[str] = []
    notices: list[str] = []

    for transaction_id, total in _rows(
        f"SELECT transaction_id, sum(amount_minor) FROM ledger_entry e WHERE true {where('e')} "
        "GROUP BY transaction_id HAVING sum(amount_minor) <> 0",
        params,
    ):
        problems.append(f"Journal of transaction {transaction_id} sums to {total}, not zero.")

    for transaction_id, kind, status, entry_count in _rows(
        f"""
        SELECT t.id, t.kind, t.status, count(e.id) FROM ledger_transaction t
        LEFT JOIN ledger_entry e ON e.transaction_id = t.id WHERE true {where("t")}
        GROUP BY t.id, t.kind, t.status
        HAVING count(e.id) <> CASE WHEN t.status IN ('posted', 'reversed') THEN 2 ELSE 0 END
        """,
        params,
    ):
        problems.append(f"{kind.capitalize()} {transaction_id} ({status}) has {entry_count} entries.")

    for transaction_id, status, reversal_id in _rows(
        f"""
        SELECT t.id, t.status, r.id FROM ledger_transaction t
        LEFT JOIN ledger_transaction r ON r.reversal_of_id = t.id
        WHERE t.kind = 'spend' AND ((t.status = 'reversed') <> (r.id IS NOT NULL)) {where("t")}
        """,
        params,
    ):
        problems.append(
            f"Spend {transaction_id} is {status} but "
            + ("has reversal " + str(reversal_id) if reversal_id else "has no reversal")
            + "."
        )

    for department, month, spent, ledger_total, held, awaiting in _rows(
        f"""
        WITH RECURSIVE closure(ancestor_id, descendant_id) AS (
            SELECT id, id FROM tenancy_department
            UNION ALL
            SELECT c.ancestor_id, d.id FROM closure c JOIN tenancy_department d ON d.parent_id = c.descendant_id
        ),
        ledger AS (
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(e.amount_minor) AS total
            FROM ledger_entry e
            JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'expense'
            JOIN ledger_transaction t ON t.id = e.transaction_id
            JOIN closure c ON c.descendant_id = a.department_id
            WHERE true {where("e")}
            GROUP BY 1, 2
        ),
        awaiting AS (
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(t.amount_minor) AS total
            FROM ledger_transaction t JOIN closure c ON c.descendant_id = t.department_id
            WHERE t.status = 'awaiting_approval' {where("t")}
            GROUP BY 1, 2
        ),
        periods AS (
            SELECT p.department_id, p.month, p.spent_minor, p.held_minor
            FROM budgets_budgetperiod p WHERE true {where("p")}
        ),
        expected AS (
            SELECT coalesce(l.department_id, w.department_id) AS department_id,
                   coalesce(l.month, w.month) AS month, coalesce(l.total, 0) AS spent, coalesce(w.total, 0) AS held
            FROM ledger l FULL JOIN awaiting w ON w.department_id = l.department_id AND w.month = l.month
        )
        SELECT d.name, coalesce(p.month, x.month), coalesce(p.spent_minor, 0), coalesce(x.spent, 0),
               coalesce(p.held_minor, 0), coalesce(x.held, 0)
        FROM periods p FULL JOIN expected x ON x.department_id = p.department_id AND x.month = p.month
        JOIN tenancy_department d ON d.id = coalesce(p.department_id, x.department_id)
        WHERE coalesce(p.spent_minor, 0) <> coalesce(x.spent, 0) OR coalesce(p.held_minor, 0) <> coalesce(x.held, 0)
        """,
        params * 3,
    ):
        if spent != ledger_total:
            problems.append(
                f"Budget of '{department}' for {month:%Y-%m} says {spent} spent, the ledger says {ledger_total}."
            )
        if held != awaiting:
            problems.append(
                f"Budget of '{department}' for {month:%Y-%m} holds {held}, spends awaiting approval total {awaiting}."
            )

    for department, month, spent, limit in _rows(
        f"""
        SELECT d.name, p.month, p.spent_minor, p.limit_minor FROM budgets_budgetperiod p
        JOIN tenancy_department d ON d.id = p.department_id WHERE p.spent_minor > p.limit_minor {where("p")}
        """,
        params,
    ):
        # Allowed only because a limit may be lowered below what was spent (api.md); spend never pushes past it.
        notices.append(f"Budget of '{department}' for {month:%Y-%m} has {spent} spent over a limit of {limit}.")

    installed = {
        name
        for (name,) in _rows(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('ledger_entry'::regclass, 'ledger_entryseal'::regclass) "
            "AND tgenabled <> 'D'",
            [],
        )
    }
    for trigger in LEDGER_TRIGGERS:
        if trigger not in installed:
            problems.append(f"Trigger {trigger} is not installed or is disabled.")

    stuck = Transaction.objects.filter(
        status=Transaction.Status.PENDING, created_at__lt=timezone.now() - STUCK_PENDING_AFTER
    )
    if organization is not None:
        stuck = stuck.filter(organization=organization)
    stuck_count = stuck.count()
    if stuck_count:
        problems.append(f"{stuck_count} transactions have been pending for more than {STUCK_PENDING_AFTER}.")

    chain_problems, chain_notices, chain_checked = chain_check(
        organization_id=None if organization is None else organization.id
    )
    problems += chain_problems
    notices += chain_notices

    entries = Entry.objects.all() if organization is None else Entry.objects.of(organization)
    transactions = Transaction.objects.all() if organization is None else Transaction.objects.of(organization)
    return {
        "ok": not problems,
        "problems": problems,
        "notices": notices,
        "checked": {
            "transactions": transactions.count(),
            "entries": entries.count(),
            "triggers": len(LEDGER_TRIGGERS),
            **chain_checked,
        },
    }
