from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from django.db import DatabaseError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.models import Department, Organization, User
from ledgerx.db import MONTH_CLOSED_SQLSTATE, run_serializable
from ledgerx.errors import Conflict, InvalidInput
from ledgerx.months import month_following, month_start, month_text

from .locks import organization_settlement_lock
from .models import BudgetPeriod
from .totals import BudgetTotals, budget_periods_open


@contextmanager
def closed_month_refused() -> Iterator[None]:
    """The database's refusal to change a closed month's budgets (apps/ledger migration 0018), as a 409."""
    try:
        yield
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) != MONTH_CLOSED_SQLSTATE:
            raise
        raise Conflict(f"The {error.__cause__.diag.message_primary} (an org admin may reopen it).") from None


def budget_period_set_limit(
    *, department: Department, month: date, limit_minor: int, actor: User | None
) -> tuple[BudgetPeriod, str]:
    """Change one period's limit. Below what is spent is allowed: it blocks further spend, and says so.

    `actor` is who asked (None when the platform itself does it); the change is audited. It has no
    default: a caller that forgot it would record the platform as the one who changed the money.
    """
    if limit_minor < 0:
        raise InvalidInput("A limit cannot be negative.", fields={"limit": ["Must be zero or more."]})

    def set_limit() -> BudgetPeriod:
        totals = BudgetTotals.lock(
            organization_id=department.organization_id, department_ids=[department.id], months=[month]
        )
        period = totals.periods[(department.id, month)]
        before = {"department": str(department.id), "period": month_text(month), "limit_minor": period.limit_minor}
        period.limit_minor = limit_minor
        period.spent_at_limit_change_minor = period.spent_minor
        period.updated_at = period.limit_set_at = timezone.now()
        period.save(update_fields=["limit_minor", "spent_at_limit_change_minor", "updated_at", "limit_set_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.BUDGET_LIMIT_SET,
            target=period,
            before=before,
            after={**before, "limit_minor": limit_minor},
        )
        return period

    with organization_settlement_lock(department.organization_id), closed_month_refused():
        period = run_serializable(set_limit)
    notice = ""
    if limit_minor < period.spent_minor + period.held_minor:
        notice = (
            "The new limit is below what is already spent and held: nothing more posts this period, "
            "and spends awaiting approval there cannot be approved until the limit is raised."
        )
    return period, notice


def _open_months(now: datetime, timezone_name: str) -> tuple[date, date]:
    """The months whose periods are kept open: this one and the next, in the organization's timezone."""
    this_month = month_start(now, timezone_name)
    return this_month, month_following(this_month)


def budget_rollover(*, now: datetime | None = None) -> int:
    """Open this month's and next month's periods for every department ahead of first use.

    Opening moves no money (a period opens at zero spent and held), so it needs no settlement
    lock: a writer that finds the period already open keeps it as it is.
    """
    now = now or timezone.now()
    opened = 0
    for organization in Organization.objects.all():
        department_ids = list(Department.objects.of(organization).values_list("id", flat=True))
        for month in _open_months(now, organization.timezone):
            before = BudgetPeriod.objects.filter(organization=organization, month=month).count()
            budget_periods_open(department_ids=department_ids, month=month)
            opened += BudgetPeriod.objects.filter(organization=organization, month=month).count() - before
    return opened


def budget_periods_open_for_new_department(*, department: Department, now: datetime | None = None) -> None:
    """Open a new department's periods for this month and next, as the rollover would, so finance can set
    its limit at once rather than after the next hourly rollover.

    Called in the transaction that creates the department (apps.py). Like the rollover it moves no money
    and takes no settlement lock: the department has no spend yet, and its ancestors' periods are untouched.
    """
    for month in _open_months(now or timezone.now(), department.organization.timezone):
        budget_periods_open(department_ids=[department.id], month=month)


def budget_periods_follow_standing_limit(*, department: Department, now: datetime | None = None) -> None:
    """Give the department's months still to come, opened ahead of time, its standing limit, unless
    finance set one's own limit. Called in the transaction that saves the department (apps.py).

    This month keeps its limit: it changes only through budget_period_set_limit, which weighs the
    spend. A month to come has none (spends count in the month they are made), so a new limit there
    moves no money and needs no settlement lock.
    """
    this_month = month_start(now or timezone.now(), department.organization.timezone)
    BudgetPeriod.objects.filter(department=department, month__gt=this_month, limit_set_at__isnull=True).exclude(
        limit_minor=department.monthly_limit_minor
    ).update(limit_minor=department.monthly_limit_minor, updated_at=timezone.now())
