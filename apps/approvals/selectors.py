import uuid

from django.db.models import Q, QuerySet

from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Role, User

from .models import MAX_LEVELS, ApprovalPolicy, ApprovalRequest, ApproverKind


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
