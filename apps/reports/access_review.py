"""The user access review: every user of the organization as of the period's end.

Role, department and freeze come from the audit log (the last user.created / user.role_changed /
user.frozen / user.unfrozen event before the period's end), so a closed month reads the same later.
"""

from datetime import UTC, datetime

from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_events_between
from apps.tenancy.models import Department, Organization, Role, User

from .models import ReportKind
from .periods import Period
from .report import Report, moment_text

_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_ROLE_EVENTS = (AuditEvent.Action.USER_CREATED, AuditEvent.Action.USER_ROLE_CHANGED)
_FREEZE_EVENTS = (AuditEvent.Action.USER_FROZEN, AuditEvent.Action.USER_UNFROZEN)

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
    role_event: dict[str, AuditEvent] = {}
    frozen: dict[str, bool] = {}
    events = audit_events_between(
        organization=organization,
        actions=[*_ROLE_EVENTS, *_FREEZE_EVENTS],
        starts_at=_BEGINNING,
        ends_at=period.ends_at,
    ).filter(target_type=User._meta.label_lower)
    for event in events:
        if event.action in _ROLE_EVENTS:
            role_event[event.target_id] = event
        else:
            frozen[event.target_id] = event.action == AuditEvent.Action.USER_FROZEN
    rows = []
    for user in users:
        event = role_event.get(str(user.id))
        state = (event.after or {}) if event else {}
        role = state.get("role", user.role)
        department_id = state.get("department", str(user.department_id) if user.department_id else None)
        if not user.is_active:
            status = "inactive"
        elif frozen.get(str(user.id), False):
            status = "frozen"
        else:
            status = "active"
        rows.append(
            (
                user.email,
                Role(role).label if role in Role.values else role,
                departments.get(department_id, "") if department_id else "",
                status,
                last_login_text(user, period),
                mfa_state(user),
                (event.actor_email or "platform") if event else "not recorded",
                moment_text(event.created_at, period.timezone_name) if event else "",
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
