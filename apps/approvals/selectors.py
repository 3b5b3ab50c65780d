import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Role, User

from .models import MAX_LEVELS, ApprovalPolicy, ApprovalRequest, ApproverKind, SpenderStep


def approval_policies_of(*, organization_id: uuid.UUID) -> list[ApprovalPolicy]:
    return list(ApprovalPolicy.objects.filter(organization_id=organization_id))


def approval_policy_for(
    policies: list[ApprovalPolicy], *, amount_minor: int, lineage: list[uuid.UUID], category: str
) -> ApprovalPolicy | None:
    """The policy a spend falls under: of those whose band, department subtree and category match,
    the highest band, and among equal bands the most specific."""
    matching = [
        policy
        for policy in policies
        if amount_minor >= policy.min_amount_minor
        and (policy.department_id is None or policy.department_id in lineage)
        and (not policy.category or policy.category == category)
    ]
    return max(
        matching,
        key=lambda p: (p.min_amount_minor, p.department_id is not None, bool(p.category)),
        default=None,
    )


def nearest_department_heads(*, organization_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID | None]:
    """Each department's head, or its nearest ancestor's: whom a department-head step waits for.

    One query for the whole tree, so a list of pending approvals costs no query per row.
    """
    parents, own_heads = {}, {}
    for department_id, parent_id, head_id in Department.objects.filter(organization_id=organization_id).values_list(
        "id", "parent_id", "head_id"
    ):
        parents[department_id] = parent_id
        own_heads[department_id] = head_id
    nearest: dict[uuid.UUID, uuid.UUID | None] = {}
    for department_id in parents:
        unresolved = []
        current = department_id
        while current is not None and current not in nearest and own_heads[current] is None:
            unresolved.append(current)
            current = parents[current]
        if current is None:
            head_id = None
        else:
            head_id = nearest.get(current, own_heads[current])
            nearest[current] = head_id
        for below in unresolved:
            nearest[below] = head_id
    return nearest


def approver_may_sign(
    *, user: User, kind: str, spend: Transaction, heads: dict[uuid.UUID, uuid.UUID | None] | None = None
) -> bool:
    """Whether `user` is who an approval step of this kind waits for (separation of duties aside).

    `heads` is nearest_department_heads() of the spend's organization, when the caller has it.
    """
    if user.organization_id != spend.organization_id:
        return False
    if kind == ApproverKind.FINANCE_MANAGER:
        return user.role == Role.FINANCE_MANAGER
    if kind == ApproverKind.ORG_ADMIN:
        return user.role == Role.ORG_ADMIN
    if heads is None:
        heads = nearest_department_heads(organization_id=spend.organization_id)
    head_id = heads.get(spend.department_id)
    # A department tree with no head anywhere above the spend leaves that step to the org admins.
    return user.id == head_id if head_id is not None else user.role == Role.ORG_ADMIN


def approval_list(*, user: User, status: str | None) -> list[ApprovalRequest]:
    """Pending: what waits for this user now. Decided: what finance sees, or what this user signed."""
    requests: QuerySet[ApprovalRequest] = (
        ApprovalRequest.objects.of(user.organization)
        .select_related("transaction__department", "transaction__employee")
        .prefetch_related("decisions__approver")
    )
    if status:
        requests = requests.filter(status=status)
    heads = nearest_department_heads(organization_id=user.organization_id)
    visible = []
    for request in requests[:500]:
        signed = {decision.approver_id for decision in request.decisions.all()}
        if request.status == ApprovalRequest.Status.PENDING:
            if (
                request.transaction.employee_id != user.id
                and user.id not in signed
                and approver_may_sign(
                    user=user, kind=request.levels[request.current_level], spend=request.transaction, heads=heads
                )
            ):
                visible.append(request)
        elif user.role in (Role.FINANCE_MANAGER, Role.ORG_ADMIN) or user.id in signed:
            visible.append(request)
    return visible


def approvals_waiting_for(requests: QuerySet[ApprovalRequest], *, kind: str) -> QuerySet[ApprovalRequest]:
    """The pending requests among `requests` whose current step waits for an approver of `kind`."""
    current_step_is_kind = Q()
    for level in range(MAX_LEVELS):
        current_step_is_kind |= Q(current_level=level, **{f"levels__{level}": kind})
    return requests.filter(current_step_is_kind, status=ApprovalRequest.Status.PENDING)


@dataclass(frozen=True)
class ApproverDirectory:
    """Who may sign each kind of step in one organization: read once, asked for every spend of a batch."""

    heads: dict[uuid.UUID, uuid.UUID | None]
    finance_managers: frozenset[uuid.UUID]
    org_admins: frozenset[uuid.UUID]

    def signers(self, kind: str, *, department_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """Everyone `approver_may_sign` would let sign a step of `kind` for a spend of this department."""
        if kind == ApproverKind.FINANCE_MANAGER:
            return self.finance_managers
        if kind == ApproverKind.ORG_ADMIN:
            return self.org_admins
        head_id = self.heads.get(department_id)
        return frozenset({head_id}) if head_id is not None else self.org_admins


def approver_directory(*, organization_id: uuid.UUID) -> ApproverDirectory:
    signers = User.objects.filter(
        organization_id=organization_id, is_active=True, role__in=(Role.FINANCE_MANAGER, Role.ORG_ADMIN)
    ).values_list("id", "role")
    return ApproverDirectory(
        heads=nearest_department_heads(organization_id=organization_id),
        finance_managers=frozenset(user_id for user_id, role in signers if role == Role.FINANCE_MANAGER),
        org_admins=frozenset(user_id for user_id, role in signers if role == Role.ORG_ADMIN),
    )


@dataclass(frozen=True)
class ApprovalRoute:
    levels: list[str]
    current_level: int
    routing: list[dict]


# Where an escalated step goes, in order of preference.
ESCALATION_KINDS = (ApproverKind.FINANCE_MANAGER, ApproverKind.ORG_ADMIN)


def approval_route(
    *,
    directory: ApproverDirectory,
    levels: list[str],
    current_level: int,
    routing: list[dict],
    department_id: uuid.UUID,
    spender_id: uuid.UUID,
    signed_ids: set[uuid.UUID],
    spender_step: str,
) -> ApprovalRoute | None:
    """The step a waiting spend waits for, passing over steps nobody eligible could sign.

    A step whose only possible signers are the spender or people who signed an earlier step would
    wait forever. The policy's `spender_step` says what happens to it: skipped to the next step, or
    escalated (the last step always escalates: skipping it would approve the spend with no one's
    signature) to a finance manager, else an org admin. None when no one at all could sign: the
    caller rejects the spend rather than let it hold budget until it expires.
    """
    levels, routing = list(levels), list(routing)
    excluded = {spender_id, *signed_ids}
    level = current_level
    while True:
        kind = levels[level]
        if directory.signers(kind, department_id=department_id) - excluded:
            return ApprovalRoute(levels=levels, current_level=level, routing=routing)
        label = ApproverKind(kind).label.lower()
        if spender_step == SpenderStep.SKIP and level + 1 < len(levels):
            routing.append(
                {
                    "level": level,
                    "action": "skipped",
                    "note": f"Step {level + 1} ({label}): no one but the spender or an earlier signer could sign it.",
                }
            )
            level += 1
            continue
        escalation = next(
            (
                other
                for other in ESCALATION_KINDS
                if other != kind and directory.signers(other, department_id=department_id) - excluded
            ),
            None,
        )
        if escalation is None:
            return None
        levels[level] = escalation.value
        routing.append(
            {
                "level": level,
                "action": "escalated",
                "note": f"Step {level + 1} ({label}): no one but the spender or an earlier signer could sign it; "
                f"escalated to the {escalation.label.lower()}.",
            }
        )
        return ApprovalRoute(levels=levels, current_level=level, routing=routing)
