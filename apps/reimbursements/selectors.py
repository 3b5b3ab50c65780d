"""Reads of reimbursements: claims as their employee and finance see them, payout batches, payables."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from apps.ledger.models import Account, EntryHistory, Transaction
from apps.tenancy.models import Organization, Role, User

from .models import PayoutBatch


class ClaimStatus:
    """What a claim's employee sees, derived: the claim's own status, and `paid` from its payout line."""

    SUBMITTED = "submitted"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"
    PAID = "paid"
    ALL = (SUBMITTED, AWAITING_APPROVAL, APPROVED, REJECTED, REVERSED, PAID)
    LABELS = {
        SUBMITTED: "Submitted",
        AWAITING_APPROVAL: "Awaiting approval",
        APPROVED: "Approved, to be paid",
        REJECTED: "Rejected",
        REVERSED: "Reversed",
        PAID: "Paid",
    }


_STATUS_OF_TRANSACTION = {
    Transaction.Status.PENDING: ClaimStatus.SUBMITTED,
    Transaction.Status.AWAITING_APPROVAL: ClaimStatus.AWAITING_APPROVAL,
    Transaction.Status.POSTED: ClaimStatus.APPROVED,
    Transaction.Status.REJECTED: ClaimStatus.REJECTED,
    Transaction.Status.REVERSED: ClaimStatus.REVERSED,
}


def local_today(organization: Organization) -> date:
    return timezone.now().astimezone(ZoneInfo(organization.timezone)).date()


def claim_payout_annotations() -> dict:
    """A claim's payout batch, if it is in one: what claim_status and the claim's representation read."""
    return {
        "payout_batch_id": F("payout_line__batch_id"),
        "payout_batch_status": F("payout_line__batch__status"),
        "payout_batch_reference": F("payout_line__batch__reference"),
    }


def claims_visible(*, user: User) -> QuerySet[Transaction]:
    """The claims `user` may see, each with its payout batch (if any): an employee their own, finance all."""
    claims = (
        Transaction.objects.of(user.organization)
        .filter(kind=Transaction.Kind.REIMBURSEMENT)
        .select_related("department", "employee")
        .annotate(**claim_payout_annotations())
    )
    if user.role == Role.EMPLOYEE:
        claims = claims.filter(employee=user)
    return claims


def claim_status(claim: Transaction) -> str:
    """Paid once its batch is released; otherwise what its transaction's status says. Needs claims_visible's
    annotations."""
    if claim.payout_batch_status == PayoutBatch.Status.RELEASED:
        return ClaimStatus.PAID
    return _STATUS_OF_TRANSACTION[claim.status]


def claim_list(*, user: User, status: str | None = None) -> QuerySet[Transaction]:
    claims = claims_visible(user=user)
    if status == ClaimStatus.PAID:
        claims = claims.filter(payout_line__batch__status=PayoutBatch.Status.RELEASED)
    elif status is not None:
        transaction_status = next(key for key, value in _STATUS_OF_TRANSACTION.items() if value == status)
        claims = claims.filter(status=transaction_status)
        if status == ClaimStatus.APPROVED:
            claims = claims.exclude(payout_line__batch__status=PayoutBatch.Status.RELEASED)
    return claims.order_by("-created_at", "-id")


def batch_list(*, organization: Organization) -> QuerySet[PayoutBatch]:
    return PayoutBatch.objects.of(organization).select_related("created_by", "released_by").order_by("-created_at")


def payable_balance_minor(*, employee: User) -> int:
    """What the books say the organization owes `employee` for claims: minus the payable account's balance."""
    balance = EntryHistory.objects.filter(
        account__kind=Account.Kind.EMPLOYEE_PAYABLE, account__employee=employee
    ).aggregate(total=Sum("amount_minor"))["total"]
    return -(balance or 0)
