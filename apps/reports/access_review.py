"""The user access review: every user of the organization as of the period's end.

Role, department, active and frozen come from the database's change log of users (AuditChange),
as they stood at the period's end, so a closed month reads the same later; who granted the role
and when is the last change that set it before then, made by whatever path (the back office, the
API, a command, raw SQL: the actor says which). The second factors each user had then are replayed
from the audit log's MFA events.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime

from apps.audit.models import AuditChange, AuditEvent
from apps.audit.selectors import audit_changes_of, audit_events_between
from apps.tenancy.mfa import MFA_REQUIRED_ROLES
from apps.tenancy.models import Department, Organization, Role, User

from .change_log import last_change_of, value_as_of
from .models import ReportKind
from .periods import Period
from .report import Report, moment_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


MFA_ACTIONS = [
    AuditEvent.Action.MFA_DEVICE_ADDED,
    AuditEvent.Action.MFA_DEVICE_REMOVED,
    AuditEvent.Action.MFA_RESET,
]
MFA_KINDS = {"authenticator_app": "authenticator app", "passkey": "passkey"}


def mfa_devices_as_of(*, organization: Organization, moment: datetime) -> dict[str, set[tuple[str, int]]]:
    """Each user's second factors (kind, device id) at `moment`, replayed from the audit log: every device
    is added, removed and reset through audited services (apps/tenancy/mfa_services.py), so a closed
    month reads the same after a device changes."""
    devices: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for event in audit_events_between(organization=organization, actions=MFA_ACTIONS, starts_at=EPOCH, ends_at=moment):
        owned = devices[event.target_id]
        if event.action == AuditEvent.Action.MFA_RESET:
            owned.clear()
        elif event.action == AuditEvent.Action.MFA_DEVICE_ADDED:
            owned.add((event.after["kind"], event.after["id"]))
        else:
            owned.discard((event.after["kind"], event.after["id"]))
    return devices


def mfa_state(devices: set[tuple[str, int]], role: str) -> str:
    """The MFA column: the second factors the user had, or that they had none (and whether their role needs one)."""
    if not devices:
        return "not enrolled (required)" if role in MFA_REQUIRED_ROLES else "not enrolled"
    counts = Counter(kind for kind, _ in devices)
    return "enrolled: " + ", ".join(
        f"{count} {MFA_KINDS[kind]}{'s' if count > 1 else ''}" for kind, count in sorted(counts.items())
    )


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
    mfa_devices = mfa_devices_as_of(organization=organization, moment=period.ends_at)
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
                mfa_state(mfa_devices[str(user.id)], role),
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
