"""The user access review: every user of the organization as of the period's end.

Role, department, active and frozen come from the database's change log of users (AuditChange),
as they stood at the period's end, so a closed month reads the same later; who granted the role
and when is the last change that set it before then, made by whatever path (the back office, the
API, a command, raw SQL: the actor says which).
"""

from collections import defaultdict

from apps.audit.models import AuditChange
from apps.audit.selectors import audit_changes_of
from apps.tenancy.models import Department, Organization, Role, User

from .change_log import last_change_of, value_as_of
from .models import ReportKind
from .periods import Period
from .report import Report, moment_text

COLUMNS = (
    "email",
    "role",
    "department",
    "status",
    "last login",
    "MFA",
    "role granted by",
    "role granted at",
)


def mfa_state(user: User) -> str:
    """The MFA column. LedgerX has no MFA yet: issue 24 adds it, and changes this function only."""
    return "not enrolled"


def last_login_text(user: User, period: Period) -> str:
    """User.last_login keeps only the latest sign-in: one after the period's end is not the period's
    answer, and is said so rather than shown (a sign-in log would tell the last one before it)."""
    if user.last_login is None:
        return "never"
    if user.last_login >= period.ends_at:
        return "after the period"
    return moment_text(user.last_login, period.timezone_name)


def access_review(*, organization: Organization, period: Period) -> Report:
    users = list(User.objects.of(organization).filter(date_joined__lt=period.ends_at).order_by("email", "id"))
    departments = {str(id_): name for id_, name in Department.objects.of(organization).values_list("id", "name")}
    history: dict[str, list[AuditChange]] = defaultdict(list)
    for change in audit_changes_of(
        organization=organization, tables=[User._meta.db_table], row_ids=[str(user.id) for user in users]
    ):
        history[change.row_id].append(change)
    rows = []
    for user in users:
        changes, moment = history[str(user.id)], period.ends_at
        role = value_as_of(changes, "role", moment, user.role)
        department_id = value_as_of(changes, "department_id", moment, user.department_id)
        frozen_at = value_as_of(changes, "frozen_at", moment, user.frozen_at)
        grant = last_change_of(changes, "role", moment)
        if not value_as_of(changes, "is_active", moment, user.is_active):
            status = "inactive"
        elif frozen_at is not None:
            status = "frozen"
        else:
            status = "active"
        rows.append(
            (
                user.email,
                Role(role).label if role in Role.values else role,
                departments.get(str(department_id), "") if department_id else "",
                status,
                last_login_text(user, period),
                mfa_state(user),
                grant.actor if grant else "not recorded",
                moment_text(grant.changed_at, period.timezone_name) if grant else "",
            )
        )
    return Report(
        kind=ReportKind.ACCESS_REVIEW,
        title=ReportKind.ACCESS_REVIEW.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=tuple(rows),
        summary=(("users", str(len(rows))),),
    )
