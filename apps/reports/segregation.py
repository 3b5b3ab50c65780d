"""Segregation of duties: approvals and reversals by people who should not have made them.

The manager chain of a spend is the head of the spender's department and the head of every
department above it. The tree is read as it stood at the period's end, from the audit log
(department.created / .updated / .head_set each record the department's parent and head), so a
closed month reads the same after departments move or change heads.
"""

from collections import defaultdict
from datetime import UTC, datetime

from apps.approvals.models import ApprovalDecision
from apps.audit.models import AuditEvent
from apps.audit.selectors import audit_events_between
from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Organization
from ledgerx.money import to_decimal_string

from .models import ReportKind
from .periods import Period
from .report import Report, moment_text

_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_DEPARTMENT_EVENTS = [
    AuditEvent.Action.DEPARTMENT_CREATED,
    AuditEvent.Action.DEPARTMENT_UPDATED,
    AuditEvent.Action.DEPARTMENT_HEAD_SET,
]
_RULE_EVENTS = [
    AuditEvent.Action.SPEND_RULE_CREATED,
    AuditEvent.Action.SPEND_RULE_UPDATED,
    AuditEvent.Action.SPEND_RULE_DELETED,
]

SELF_APPROVAL = "self approval"
MANAGER_CHAIN = "approver in manager chain"
LIMIT_CHANGER = "changed a limit and approved under it"
POLICY_CHANGER = "changed the spend policy and approved under it"
REVERSED_OWN = "reversed own spend"
REVERSED_APPROVED = "reversed a spend they approved"

COLUMNS = ("finding", "who", "what", "when", "spend", "evidence")


def department_tree_at(*, organization: Organization, moment: datetime) -> dict[str, tuple[str | None, str | None]]:
    """Each department's (parent, head) as of `moment`, ids as text: its last audited state before it,
    or its present one when the audit log holds none."""
    tree = {
        str(department_id): (str(parent_id) if parent_id else None, str(head_id) if head_id else None)
        for department_id, parent_id, head_id in Department.objects.of(organization)
        .filter(created_at__lt=moment)
        .values_list("id", "parent_id", "head_id")
    }
    for event in audit_events_between(
        organization=organization, actions=_DEPARTMENT_EVENTS, starts_at=_BEGINNING, ends_at=moment
    ):
        if event.target_id in tree and event.after:
            tree[event.target_id] = (event.after.get("parent"), event.after.get("head"))
    return tree


def lineage(tree: dict[str, tuple[str | None, str | None]], department_id: str) -> list[str]:
    """The department and every department above it, nearest first."""
    found, current = [], department_id
    while current is not None and current in tree and current not in found:
        found.append(current)
        current = tree[current][0]
    return found


def _money(spend: Transaction) -> str:
    return f"{to_decimal_string(spend.amount_minor, spend.currency)} {spend.currency}"


def segregation_of_duties(*, organization: Organization, period: Period) -> Report:
    tree = department_tree_at(organization=organization, moment=period.ends_at)
    names = {str(id_): name for id_, name in Department.objects.of(organization).values_list("id", "name")}
    when = period.timezone_name
    changes = audit_events_between(
        organization=organization,
        actions=[AuditEvent.Action.BUDGET_LIMIT_SET, AuditEvent.Action.DEPARTMENT_UPDATED, *_RULE_EVENTS],
        starts_at=period.starts_at,
        ends_at=period.ends_at,
    ).filter(actor__isnull=False)
    limit_changes: dict[tuple, list] = defaultdict(list)  # (actor, department) -> (time, event id)
    policy_changes: dict = defaultdict(list)  # actor -> (policy version, event id)
    for event in changes:
        before, after = event.before or {}, event.after or {}
        if event.action == AuditEvent.Action.BUDGET_LIMIT_SET:
            limit_changes[(event.actor_id, after.get("department"))].append((event.created_at, event.id))
        elif event.action == AuditEvent.Action.DEPARTMENT_UPDATED:
            if before.get("monthly_limit_minor") != after.get("monthly_limit_minor"):
                limit_changes[(event.actor_id, event.target_id)].append((event.created_at, event.id))
        elif "policy_version" in after:
            policy_changes[event.actor_id].append((after["policy_version"], event.id))

    findings = []
    decisions = (
        ApprovalDecision.objects.of(organization)
        .filter(
            outcome=ApprovalDecision.Outcome.APPROVED, created_at__gte=period.starts_at, created_at__lt=period.ends_at
        )
        .select_related("approver", "request__transaction__employee")
        .order_by("created_at", "id")
    )
    for decision in decisions:
        spend, approver = decision.request.transaction, decision.approver
        what = f"approved step {decision.level + 1} of {spend.employee.email}'s {_money(spend)} at {spend.merchant}"
        at, evidence = moment_text(decision.created_at, when), f"decision {decision.id}"
        chain = lineage(tree, str(spend.department_id))
        heads = {tree[department][1]: department for department in chain if tree[department][1]}
        if approver.id == spend.employee_id:
            findings.append((SELF_APPROVAL, approver.email, what, at, str(spend.id), evidence))
        elif str(approver.id) in heads:
            department = heads[str(approver.id)]
            head_of = f"{evidence}; head of {names.get(department, '')} ({department})"
            findings.append((MANAGER_CHAIN, approver.email, what, at, str(spend.id), head_of))
        # A limit of the spend's department or of one above it, changed before this approval.
        limit_events = sorted(
            event_id
            for department in chain
            for changed_at, event_id in limit_changes.get((approver.id, department), [])
            if changed_at <= decision.created_at
        )
        if limit_events:
            changed = f"{evidence}; audit events {' '.join(map(str, limit_events))}"
            findings.append((LIMIT_CHANGER, approver.email, what, at, str(spend.id), changed))
        policy_events = sorted(
            event_id
            for version, event_id in policy_changes.get(approver.id, [])
            if spend.policy_version is not None and spend.policy_version >= version
        )
        if policy_events:
            changed = f"{evidence}; audit events {' '.join(map(str, policy_events))}"
            findings.append((POLICY_CHANGER, approver.email, what, at, str(spend.id), changed))

    reversals = list(
        Transaction.objects.of(organization)
        .filter(kind=Transaction.Kind.REVERSAL, created_at__gte=period.starts_at, created_at__lt=period.ends_at)
        .select_related("created_by", "reversal_of__employee")
        .order_by("created_at", "id")
    )
    approvers_of = defaultdict(set)
    for spend_id, approver_id in (
        ApprovalDecision.objects.of(organization)
        .filter(
            outcome=ApprovalDecision.Outcome.APPROVED,
            request__transaction_id__in=[reversal.reversal_of_id for reversal in reversals],
        )
        .values_list("request__transaction_id", "approver_id")
    ):
        approvers_of[spend_id].add(approver_id)
    for reversal in reversals:
        original, reverser = reversal.reversal_of, reversal.created_by
        what = f"reversed {original.employee.email}'s {_money(original)} at {original.merchant}"
        at, evidence = moment_text(reversal.created_at, when), f"reversal {reversal.id}"
        if reverser.id == original.employee_id:
            findings.append((REVERSED_OWN, reverser.email, what, at, str(original.id), evidence))
        if reverser.id in approvers_of[original.id]:
            findings.append((REVERSED_APPROVED, reverser.email, what, at, str(original.id), evidence))

    # By time, then kind and ids, so a rerun lists them in the same order.
    rows = sorted(findings, key=lambda row: (row[3], row[0], row[4], row[5]))
    counts = defaultdict(int)
    for row in rows:
        counts[row[0]] += 1
    return Report(
        kind=ReportKind.SEGREGATION_OF_DUTIES,
        title=ReportKind.SEGREGATION_OF_DUTIES.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=tuple(rows),
        summary=(("findings", str(len(rows))), *((kind, str(counts[kind])) for kind in sorted(counts))),
    )
