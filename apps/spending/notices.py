"""A decision on a spend told to whom it concerns, by Web Push (apps/push): posted or refused to its
spender, "approval needed" to who signs its step now. Asked after the decision's commit, sent by a
task, so it neither slows nor fails the money path; the pages show every decision anyway."""

import logging
import uuid
from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse

from apps.approvals.models import ApprovalRequest
from apps.approvals.selectors import approver_may_sign, nearest_department_heads
from apps.ledger.models import Transaction
from apps.push.services import Notice, notices_send
from apps.push.vapid import vapid_configured
from apps.tenancy.models import Role, User
from ledgerx.money import format_money

logger = logging.getLogger(__name__)


def decision_notices_request(*, transaction_ids: Iterable[uuid.UUID]) -> None:
    """Queue the notices of these just-decided spends. Never raises: a lost notice loses no decision."""
    from .tasks import send_decision_notices

    ids = [str(transaction_id) for transaction_id in transaction_ids]
    if not ids or not vapid_configured():
        return
    try:
        send_decision_notices.apply_async(args=[ids], retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure only loses a courtesy
        logger.warning("could not queue decision notices: %s", error)


def _approvers_now(spend: Transaction, heads: dict) -> list[uuid.UUID]:
    request = ApprovalRequest.objects.filter(transaction_id=spend.id, status=ApprovalRequest.Status.PENDING).first()
    if request is None:
        return []
    kind = request.levels[request.current_level]
    candidates = User.objects.filter(organization_id=spend.organization_id, is_active=True).filter(
        Q(role__in=[Role.FINANCE_MANAGER, Role.ORG_ADMIN]) | Q(id=heads.get(spend.department_id))
    )
    return [
        user.id
        for user in candidates.exclude(id=spend.employee_id)
        if approver_may_sign(user=user, kind=kind, spend=spend, heads=heads)
    ]


def decision_notices_send(*, transaction_ids: Iterable[uuid.UUID]) -> int:
    """Send the notice of each spend's present state; returns how many push services took one."""
    sent = 0
    heads_of: dict[uuid.UUID, dict] = {}
    for spend in (
        Transaction.objects.filter(id__in=list(transaction_ids)).select_related("employee").order_by("created_at")
    ):
        what = f"{format_money(spend.amount_minor, spend.currency)} at {spend.merchant}"
        if spend.status == Transaction.Status.POSTED:
            notice = Notice(
                title="Spend posted", body=f"{what} is posted.", url=reverse("home"), tag=f"spend-{spend.id}"
            )
            sent += notices_send(user_ids=[spend.employee_id], notice=notice)
        elif spend.status == Transaction.Status.REJECTED:
            notice = Notice(
                title="Spend refused",
                body=f"{what}: {spend.rejection_reason}",
                url=reverse("home"),
                tag=f"spend-{spend.id}",
            )
            sent += notices_send(user_ids=[spend.employee_id], notice=notice)
        elif spend.status == Transaction.Status.AWAITING_APPROVAL:
            if spend.organization_id not in heads_of:
                heads_of[spend.organization_id] = nearest_department_heads(organization_id=spend.organization_id)
            notice = Notice(
                title="Approval needed",
                body=f"{what}, by {spend.employee.email}.",
                url=reverse("approvals"),
                tag=f"approval-{spend.id}",
            )
            sent += notices_send(user_ids=_approvers_now(spend, heads_of[spend.organization_id]), notice=notice)
    return sent
