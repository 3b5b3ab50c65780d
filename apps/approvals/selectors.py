import uuid

from django.db.models import Q, QuerySet

from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Role, User
from apps.tenancy.selectors import department_lineage_ids

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


def department_head_for(*, spend: Transaction) -> User | None:
    """The head of the spend's department, or of its nearest ancestor that has one."""
    lineage = department_lineage_ids(department_id=spend.department_id)
    heads = dict(Department.objects.filter(id__in=lineage, head__isnull=False).values_list("id", "head_id"))
    for department_id in lineage:
        if department_id in heads:
            return User.objects.get(id=heads[department_id])
    return None


def approver_may_sign(*, user: User, kind: str, spend: Transaction) -> bool:
    """Whether `user` is who an approval step of this kind waits for (separation of duties aside)."""
    if user.organization_id != spend.organization_id:
        return False
    if kind == ApproverKind.FINANCE_MANAGER:
        return user.role == Role.FINANCE_MANAGER
    if kind == ApproverKind.ORG_ADMIN:
        return user.role == Role.ORG_ADMIN
    head = department_head_for(spend=spend)
    # A department tree with no head anywhere above the spend leaves that step to the org admins.
    return user.id == head.id if head is not None else user.role == Role.ORG_ADMIN


def approval_list(*, user: User, status: str | None) -> list[ApprovalRequest]:
    """Pending: what waits for this user now. Decided: what finance sees, or what this user signed."""
    requests: QuerySet[ApprovalRequest] = (
        ApprovalRequest.objects.of(user.organization)
        .select_related("transaction__department", "transaction__employee")
        .prefetch_related("decisions__approver")
    )
    if status:
        requests = requests.filter(status=status)
    visible = []
    for request in requests[:500]:
        signed = {decision.approver_id for decision in request.decisions.all()}
        if request.status == ApprovalRequest.Status.PENDING:
            if (
                request.transaction.employee_id != user.id
                and user.id not in signed
                and approver_may_sign(user=user, kind=request.levels[request.current_level], spend=request.transaction)
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
