"""Approval requests, the one writer of them and their decisions: opened by settlement for a held
spend, signed step by step, closed by the last approval (posting the spend), a rejection or expiry
(releasing its hold)."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApproverKind, SpenderStep
from apps.approvals.selectors import approval_route, approver_directory, approver_may_sign
from apps.budgets.locks import organization_settlement_lock
from apps.budgets.totals import BudgetExceeded
from apps.ledger.models import Transaction
from apps.tenancy.models import User
from apps.tenancy.selectors import spending_frozen_refusals
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound

from .holds import transaction_post_held, transaction_release_hold
from .notices import decision_notices_request


def approval_requests_open(*, organization_id: uuid.UUID, waiting: list, now: datetime) -> None:
    """Open one request per held spend, at the step its route starts from (`approval_route`).

    `waiting` holds (spend, policy, route) triples. Called inside the settlement transaction that held them.
    """
    if not waiting:
        return
    expires_at = now + timedelta(hours=settings.APPROVAL_EXPIRY_HOURS)
    ApprovalRequest.objects.bulk_create(
        [
            ApprovalRequest(
                organization_id=organization_id,
                transaction_id=spend.id,
                policy=policy,
                levels=route.levels,
                current_level=route.current_level,
                routing=route.routing,
                created_at=now,
                expires_at=expires_at,
            )
            for spend, policy, route in waiting
        ]
    )


def _label(kind: str) -> str:
    return ApproverKind(kind).label.lower()


def approval_decide(*, actor: User, request_id: uuid.UUID, approve: bool, note: str = "") -> ApprovalRequest:
    """Sign the current step of a waiting spend. The last approval posts it; a rejection releases its hold.

    Nobody approves their own spend, and nobody signs two steps of one spend. Two approvers acting at
    once on one step are serialized by the organization's settlement lock: the second finds it decided.
    Refused with 409, changing nothing, when the request has expired (it is expired then, releasing the
    hold), when the spend no longer fits its budget (a limit lowered while it waited), or when the
    spender's spending is frozen: the request stays open, so finance can raise the limit (lift the
    freeze) and approve, or reject it.
    """
    organization = actor.organization
    note = (note or "").strip()
    if not ApprovalRequest.objects.of(organization).filter(id=request_id).exists():
        raise NotFound("Approval not found.")
    if not approve and not note:
        raise InvalidInput("Say why the spend is rejected.", fields={"note": ["Required when rejecting."]})

    def decide() -> ApprovalRequest | None:
        request = ApprovalRequest.objects.select_for_update().get(id=request_id)
        if request.status != ApprovalRequest.Status.PENDING:
            raise Conflict(f"This spend is no longer waiting for approval; it was {request.status}.")
        spend = Transaction.objects.select_for_update().select_related("organization").get(id=request.transaction_id)
        now = timezone.now()
        if request.expires_at <= now:
            _expire(request=request, spend=spend, now=now)
            return None
        level = request.current_level
        kind = request.levels[level]
        if spend.employee_id == actor.id:
            raise Forbidden("Nobody approves their own spend.")
        signed = set(request.decisions.values_list("approver_id", flat=True))
        if actor.id in signed:
            raise Forbidden("You already signed an earlier step of this spend.")
        if not approver_may_sign(user=actor, kind=kind, spend=spend):
            raise Forbidden(f"This step waits for the {_label(kind)}.")
        if approve:
            frozen = spending_frozen_refusals(organization_id=organization.id, user_ids={spend.employee_id})
            if frozen:
                raise Conflict(f"{frozen[spend.employee_id]} Until then this spend can only be rejected.")
        ApprovalDecision.objects.create(
            organization=organization,
            request=request,
            level=level,
            approver=actor,
            outcome=ApprovalDecision.Outcome.APPROVED if approve else ApprovalDecision.Outcome.REJECTED,
            note=note,
            created_at=now,
        )
        if not approve:
            _close(
                request,
                spend,
                status=ApprovalRequest.Status.REJECTED,
                reason=f"Rejected at approval step {level + 1} ({_label(kind)}) by {actor.email}: {note}",
                now=now,
            )
        elif level + 1 == len(request.levels):
            try:
                transaction_post_held(spend=spend)
            except BudgetExceeded as refusal:
                raise BudgetExceeded(
                    f"{refusal.reason}. Approving would take the budget past its limit; the spend still waits: "
                    "raise the limit and approve again, or reject it.",
                    key=refusal.key,
                ) from None
            request.status = ApprovalRequest.Status.APPROVED
            request.decided_at = now
        else:
            _advance(request, spend, signed={*signed, actor.id}, now=now)
        request.save(update_fields=["status", "decided_at", "current_level", "levels", "routing"])
        outbox_emit(
            organization_id=organization.id,
            event_type=EventType.APPROVAL_DECIDED,
            payload={
                "approval": {
                    "id": str(request.id),
                    "transaction": str(spend.id),
                    "level": level + 1,
                    "levels": len(request.levels),
                    "approver": actor.email,
                    "outcome": "approved" if approve else "rejected",
                    "note": note,
                    "status": request.status,
                },
                "occurred_at": now.isoformat(),
            },
        )
        return request

    with organization_settlement_lock(organization.id):
        decided = run_serializable(decide)
    if decided is None:
        raise Conflict(
            "This approval expired: nobody decided within "
            f"{settings.APPROVAL_EXPIRY_HOURS} hours. The spend was rejected and its hold released."
        )
    decision_notices_request(transaction_ids=[decided.transaction_id])
    return decided


def _close(request: ApprovalRequest, spend: Transaction, *, status: str, reason: str, now: datetime) -> None:
    """Reject the spend with `reason`, releasing its hold, and close the request with `status`."""
    transaction_release_hold(spend=spend, reason=reason)
    request.status = status
    request.decided_at = now


def _advance(request: ApprovalRequest, spend: Transaction, *, signed: set[uuid.UUID], now: datetime) -> None:
    """Move to the next step someone eligible can sign; reject the spend if no one can."""
    policy = request.policy
    route = approval_route(
        directory=approver_directory(organization_id=spend.organization_id),
        levels=request.levels,
        current_level=request.current_level + 1,
        routing=request.routing,
        department_id=spend.department_id,
        spender_id=spend.employee_id,
        signed_ids=signed,
        spender_step=policy.spender_step if policy is not None else SpenderStep.ESCALATE,
    )
    if route is None:
        _close(
            request,
            spend,
            status=ApprovalRequest.Status.REJECTED,
            reason="No one but the spender or an earlier signer could sign the next approval step.",
            now=now,
        )
        return
    request.levels, request.current_level, request.routing = route.levels, route.current_level, route.routing


def _expire(*, request: ApprovalRequest, spend: Transaction, now: datetime) -> None:
    _close(
        request,
        spend,
        status=ApprovalRequest.Status.EXPIRED,
        reason=f"Approval expired: nobody decided within {settings.APPROVAL_EXPIRY_HOURS} hours.",
        now=now,
    )
    request.save(update_fields=["status", "decided_at"])


def approval_expire_due(*, now: datetime | None = None) -> int:
    """Reject every spend whose approval has waited past its expiry, releasing its hold."""
    now = now or timezone.now()
    due = ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING, expires_at__lte=now)
    expired = 0
    for request_id, organization_id, transaction_id in due.values_list("id", "organization_id", "transaction_id"):

        def expire(request_id=request_id) -> bool:
            request = ApprovalRequest.objects.select_for_update().get(id=request_id)
            if request.status != ApprovalRequest.Status.PENDING:
                return False
            spend = (
                Transaction.objects.select_for_update().select_related("organization").get(id=request.transaction_id)
            )
            _expire(request=request, spend=spend, now=timezone.now())
            return True

        with organization_settlement_lock(organization_id):
            if run_serializable(expire):
                expired += 1
                decision_notices_request(transaction_ids=[transaction_id])
    return expired
