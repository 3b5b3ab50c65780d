"""Changes to limits and policies in the period, from the database's change log (AuditChange).

The change log is the source of every row, so a change made by any path (a request, a task, a
command, raw SQL) is listed, with its actor and origin. A back-office event (AuditEvent) written in
the same request, task or command (context id) about the same row is the same change told in
words: it is named on that row, never listed as a row of its own.

Covered: approval policies and spend rules (every column), departments' standing limits and budget
periods' limits. A budget period's INSERT is not a change: it opens the month from the standing
limit, whose changes are listed. Not covered: webhook endpoints (where events are delivered, not
what may be spent) and organizations' currency and timezone (set once, not limits or policies);
their changes are in the change log, shown in the back office.
"""

from collections import defaultdict
from dataclasses import dataclass

from apps.approvals.models import ApprovalPolicy
from apps.audit.models import AuditChange, AuditEvent
from apps.audit.selectors import audit_changes_of, audit_event_captures
from apps.budgets.models import BudgetPeriod
from apps.controls.models import SpendRule
from apps.tenancy.models import Department, Organization, User

from .change_log import origin_text
from .models import ReportKind
from .periods import Period
from .report import Report, json_text, moment_text


@dataclass(frozen=True)
class Tracked:
    model: type
    noun: str
    columns: tuple[str, ...] | None  # None: every column but the bookkeeping ones
    operations: tuple[str, ...] = tuple(AuditChange.Operation.values)


TRACKED = {
    tracked.model._meta.db_table: tracked
    for tracked in (
        Tracked(ApprovalPolicy, "Approval policy", None),
        Tracked(SpendRule, "Spend rule", None),
        Tracked(Department, "Department", ("monthly_limit_minor",)),
        Tracked(BudgetPeriod, "Budget", ("limit_minor",), operations=("UPDATE", "DELETE")),
    )
}
BOOKKEEPING = frozenset({"id", "organization_id", "created_at", "updated_at"})
OPERATION_WORDS = {"INSERT": "created", "UPDATE": "changed", "DELETE": "deleted"}

COLUMNS = ("when", "who", "actor email", "from where", "what", "change", "field", "before", "after", "audit event")


def _fields(change: AuditChange) -> list[str]:
    tracked = TRACKED[change.table_name]
    changed = {*(change.before or {}), *(change.after or {})}
    wanted = changed - BOOKKEEPING if tracked.columns is None else changed & set(tracked.columns)
    return sorted(wanted)


def _names(organization: Organization, changes: list[AuditChange]) -> dict[int, str]:
    """Each change's row named as it was then: the name the row's last change up to it left (a
    DELETE's before), else the name its first later change found, else its name today."""
    named = [change for change in changes if TRACKED[change.table_name].model is not BudgetPeriod]
    history: dict[tuple[str, str], list[AuditChange]] = defaultdict(list)
    for change in audit_changes_of(
        organization=organization,
        tables=sorted({change.table_name for change in named}),
        row_ids=sorted({change.row_id for change in named}),
    ):
        history[(change.table_name, change.row_id)].append(change)
    today = {
        (model._meta.db_table, str(id_)): name
        for model in (ApprovalPolicy, SpendRule, Department)
        for id_, name in model.objects.of(organization).values_list("id", "name")
    }
    names = {}
    for change in named:
        key = (change.table_name, change.row_id)
        earlier = [row for row in history[key] if row.id <= change.id]
        later = [row for row in history[key] if row.id > change.id]
        known = [row.after["name"] for row in earlier if "name" in (row.after or {})]
        known += [row.before["name"] for row in earlier[-1:] if row.operation == "DELETE" and row.before]
        found = [row.before["name"] for row in later if "name" in (row.before or {})]
        names[change.id] = known[-1] if known else found[0] if found else today.get(key, change.row_id)
    return names


def _budget_names(organization: Organization, changes: list[AuditChange]) -> dict[str, str]:
    ids = [change.row_id for change in changes if TRACKED[change.table_name].model is BudgetPeriod]
    periods = BudgetPeriod.objects.of(organization).filter(id__in=ids).select_related("department")
    return {str(period.id): f"'{period.department.name}' for {period.month:%Y-%m}" for period in periods}


def _events(organization: Organization, changes: list[AuditChange]) -> dict[tuple[str, str, str], str]:
    """(context id, table, row id) -> the back-office events written with that change, in words."""
    events: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for capture in audit_event_captures(organization=organization, context_ids=sorted({c.context_id for c in changes})):
        event = capture.after
        table = event["target_type"].replace(".", "_")
        action = event["action"]
        label = AuditEvent.Action(action).label if action in AuditEvent.Action.values else action
        events[(capture.context_id, table, event["target_id"])].append(f"{label} #{event['id']}")
    return {key: ", ".join(labels) for key, labels in events.items()}


def limit_and_policy_changes(*, organization: Organization, period: Period) -> Report:
    changes = [
        change
        for change in audit_changes_of(
            organization=organization, tables=sorted(TRACKED), starts_at=period.starts_at, ends_at=period.ends_at
        )
        if change.operation in TRACKED[change.table_name].operations and _fields(change)
    ]
    names = _names(organization, changes)
    budgets = _budget_names(organization, changes)
    events = _events(organization, changes)
    emails = dict(
        User.objects.filter(id__in={change.actor_user_id for change in changes if change.actor_user_id}).values_list(
            "id", "email"
        )
    )
    rows = []
    for change in changes:
        noun = TRACKED[change.table_name].noun
        if change.id in names:
            what = f"{noun} '{names[change.id]}'"
        else:
            what = f"{noun} {budgets.get(change.row_id, change.row_id)}"
        event = events.get((change.context_id, change.table_name, change.row_id), "") if change.context_id else ""
        for field in _fields(change):
            rows.append(
                (
                    moment_text(change.changed_at, period.timezone_name),
                    change.actor,
                    emails.get(change.actor_user_id, ""),
                    origin_text(change.origin),
                    what,
                    OPERATION_WORDS[change.operation],
                    field,
                    json_text((change.before or {}).get(field)) if change.before else "",
                    json_text((change.after or {}).get(field)) if change.after else "",
                    event,
                )
            )
    return Report(
        kind=ReportKind.LIMIT_AND_POLICY_CHANGES,
        title=ReportKind.LIMIT_AND_POLICY_CHANGES.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=tuple(rows),
        summary=(("changes", str(len(changes))), ("fields changed", str(len(rows)))),
    )
