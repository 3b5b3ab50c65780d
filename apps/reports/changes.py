"""Changes to limits and policies in the period, from the audit log (AuditEvent).

A database-level change log (another branch adds it to apps/audit) would also catch changes made
outside the services; when it lands, this report should read limits and rules from it.
"""

from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_events_between
from apps.tenancy.models import Organization

from .models import ReportKind
from .periods import Period
from .report import Report, json_text, moment_text

# department.updated also records renames and moves: only those that change the standing limit count.
ACTIONS = [
    AuditEvent.Action.BUDGET_LIMIT_SET,
    AuditEvent.Action.DEPARTMENT_UPDATED,
    AuditEvent.Action.SPEND_RULE_CREATED,
    AuditEvent.Action.SPEND_RULE_UPDATED,
    AuditEvent.Action.SPEND_RULE_DELETED,
]

COLUMNS = ("when", "change", "actor", "target", "before", "after", "audit event")


def _is_limit_or_policy_change(event: AuditEvent) -> bool:
    if event.action != AuditEvent.Action.DEPARTMENT_UPDATED:
        return True
    return (event.before or {}).get("monthly_limit_minor") != (event.after or {}).get("monthly_limit_minor")


def limit_and_policy_changes(*, organization: Organization, period: Period) -> Report:
    events = audit_events_between(
        organization=organization, actions=ACTIONS, starts_at=period.starts_at, ends_at=period.ends_at
    )
    rows = tuple(
        (
            moment_text(event.created_at, period.timezone_name),
            AuditEvent.Action(event.action).label,
            event.actor_email or "platform",
            f"{event.target_type} {event.target_id}",
            json_text(event.before),
            json_text(event.after),
            str(event.id),
        )
        for event in events
        if _is_limit_or_policy_change(event)
    )
    return Report(
        kind=ReportKind.LIMIT_AND_POLICY_CHANGES,
        title=ReportKind.LIMIT_AND_POLICY_CHANGES.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=rows,
        summary=(
            ("changes", str(len(rows))),
            ("not covered", "approval policies: their changes are not audited yet"),
        ),
    )
