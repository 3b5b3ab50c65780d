"""Writes of the approvals app: approval policies. Requests are opened and decided by the spend
workflow (apps/spending/approval_requests.py), which holds and posts the money they wait on."""

import uuid

from django.db import transaction

from apps.audit.services import audit_record
from apps.tenancy.models import Department, Organization, User
from ledgerx.errors import InvalidInput, NotFound

from .models import MAX_LEVELS, ApprovalPolicy, ApproverKind, SpenderStep


def approval_policy_check(
    *,
    organization: Organization,
    name: str,
    min_amount_minor: int,
    levels: list[str],
    department_id: uuid.UUID | None = None,
) -> Department | None:
    """Refuse a policy LedgerX would not apply; answers the department it is limited to, if any.

    approval_policy_create calls it; forms call it first to show a refusal beside their fields.
    """
    if not name.strip():
        raise InvalidInput("A policy needs a name.", fields={"name": ["This field may not be blank."]})
    if min_amount_minor <= 0:
        raise InvalidInput("The band must start above zero.", fields={"min_amount": ["Must be greater than zero."]})
    if not levels or len(levels) > MAX_LEVELS or any(level not in ApproverKind.values for level in levels):
        raise InvalidInput(
            f"Levels are 1 to {MAX_LEVELS} of: {', '.join(ApproverKind.values)}.",
            fields={"levels": [f"1 to {MAX_LEVELS} of {', '.join(ApproverKind.values)}."]},
        )
    if department_id is None:
        return None
    department = Department.objects.of(organization).filter(id=department_id).first()
    if department is None:
        raise NotFound("Department not found.")
    return department


@transaction.atomic
def approval_policy_create(
    *,
    organization: Organization,
    name: str,
    min_amount_minor: int,
    levels: list[str],
    department_id: uuid.UUID | None = None,
    category: str = "",
    spender_step: str = SpenderStep.ESCALATE,
    actor: User | None = None,
) -> ApprovalPolicy:
    """`actor` is who asked (None when the platform itself does it); the change is audited."""
    if spender_step not in SpenderStep.values:
        raise InvalidInput(
            f"spender_step is one of: {', '.join(SpenderStep.values)}.",
            fields={"spender_step": [f"One of {', '.join(SpenderStep.values)}."]},
        )
    department = approval_policy_check(
        organization=organization,
        name=name,
        min_amount_minor=min_amount_minor,
        levels=levels,
        department_id=department_id,
    )
    policy = ApprovalPolicy.objects.create(
        organization=organization,
        name=name.strip(),
        min_amount_minor=min_amount_minor,
        levels=list(levels),
        department=department,
        category=category.strip().lower(),
        spender_step=spender_step,
    )
    audit_record(actor=actor, action="approval_policy.created", target=policy, after=_policy_state(policy))
    return policy


@transaction.atomic
def approval_policy_delete(*, policy: ApprovalPolicy, actor: User | None = None) -> None:
    """Spends already waiting keep the levels they started with. The deletion is audited with its `actor`."""
    audit_record(actor=actor, action="approval_policy.deleted", target=policy, before=_policy_state(policy))
    policy.delete()


def _policy_state(policy: ApprovalPolicy) -> dict:
    return {
        "name": policy.name,
        "min_amount_minor": policy.min_amount_minor,
        "levels": list(policy.levels),
        "department": str(policy.department_id) if policy.department_id else None,
        "category": policy.category,
        "spender_step": policy.spender_step,
    }
