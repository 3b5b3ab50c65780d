import uuid
import zoneinfo
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.models import Department, Organization, User
from ledgerx.errors import InvalidInput

from .locks import lock_budget_periods, organization_settlement_lock
from .models import BudgetPeriod


def month_start(moment: datetime, timezone_name: str) -> date:
    """The first day of the month `moment` falls in, in the organization's timezone."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone_name))
    return local.date().replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def parse_period(text: str) -> date:
    try:
        parsed = datetime.strptime(text, "%Y-%m")
    except (TypeError, ValueError):
        raise InvalidInput("A period is written YYYY-MM.", fields={"period": ["Use YYYY-MM."]}) from None
    return parsed.date().replace(day=1)


def period_text(month: date) -> str:
    """The inverse of parse_period. Spelled out: strftime's %Y does not pad years before 1000."""
    return f"{month.year:04d}-{month.month:02d}"


def budget_periods_open(*, department_ids: list[uuid.UUID], month: date) -> None:
    """Open the month's periods of these departments from their standing limits, if not open yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO budgets_budgetperiod
                (organization_id, department_id, month, limit_minor, spent_minor, held_minor, updated_at)
            SELECT d.organization_id, d.id, %s, d.monthly_limit_minor, 0, 0, now()
            FROM tenancy_department d WHERE d.id = ANY(%s)
            ON CONFLICT (department_id, month) DO NOTHING
            """,
            [month, list(department_ids)],
        )


def budget_period_get_or_open(*, department: Department, month: date) -> BudgetPeriod:
    budget_periods_open(department_ids=[department.id], month=month)
    return BudgetPeriod.objects.get(department=department, month=month)


def budget_period_set_limit(
    *, department: Department, month: date, limit_minor: int, actor: User | None = None
) -> tuple[BudgetPeriod, str]:
    """Change one period's limit. Below what is spent is allowed: it blocks further spend, and says so.

    `actor` is who asked (None when the platform itself does it); the change is audited.
    """
    if limit_minor < 0:
        raise InvalidInput("A limit cannot be negative.", fields={"limit": ["Must be zero or more."]})
    with organization_settlement_lock(department.organization_id), transaction.atomic():
        budget_periods_open(department_ids=[department.id], month=month)
        period = lock_budget_periods(department_ids=[department.id], months=[month])[(department.id, month)]
        before = {"department": str(department.id), "period": period_text(month), "limit_minor": period.limit_minor}
        period.limit_minor = limit_minor
        period.updated_at = timezone.now()
        period.save(update_fields=["limit_minor", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.BUDGET_LIMIT_SET,
            target=period,
            before=before,
            after={**before, "limit_minor": limit_minor},
        )
    notice = ""
    if limit_minor < period.spent_minor:
        notice = "The new limit is below what is already spent: further spend is blocked this period."
    return period, notice


def budget_rollover(*, now: datetime | None = None) -> int:
    """Open this month's and next month's periods for every department ahead of first use."""
    now = now or timezone.now()
    opened = 0
    for organization in Organization.objects.all():
        this_month = month_start(now, organization.timezone)
        department_ids = list(Department.objects.of(organization).values_list("id", flat=True))
        for month in (this_month, next_month(this_month)):
            before = BudgetPeriod.objects.filter(organization=organization, month=month).count()
            budget_periods_open(department_ids=department_ids, month=month)
            opened += BudgetPeriod.objects.filter(organization=organization, month=month).count() - before
    return opened
