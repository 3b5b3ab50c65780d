"""Reads of receipts: who may see them (one rule, below), their files, and the spends missing one."""

import uuid

from django.core.files.storage import Storage, storages
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.approvals import selectors as approval_selectors
from apps.approvals.models import ApprovalRequest
from apps.controls import selectors as control_selectors
from apps.ledger.models import Transaction
from apps.tenancy.models import Role, User

from .models import Receipt

RECEIPT_READERS = (Role.FINANCE_MANAGER, Role.ORG_ADMIN)


def receipt_storage() -> Storage:
    return storages["receipts"]


def _spends_whose_receipts_show(user: User, prefix: str = "") -> Q:
    """The one rule of who sees a spend's receipts: its spender, whoever signed or is asked to sign
    one of its approval steps, and the organization's finance managers and org admins. Nobody else:
    not another employee, not a department viewer, never another organization (the callers scope to it)."""
    if user.role in RECEIPT_READERS:
        return Q()
    # What waits for this user's signature now: the approver reads the receipt before deciding.
    waiting = [
        request.transaction_id
        for request in approval_selectors.approval_list(user=user, status=ApprovalRequest.Status.PENDING)
    ]
    return (
        Q(**{f"{prefix}employee": user})
        | Q(**{f"{prefix}approval__decisions__approver": user})
        | Q(**{f"{prefix}id__in": waiting})
    )


def spends_with_visible_receipts(*, user: User) -> QuerySet[Transaction]:
    """The spends and reimbursement claims of the user's organization whose receipts the user may see (and so
    the spends themselves)."""
    return (
        Transaction.objects.of(user.organization)
        .filter(
            _spends_whose_receipts_show(user),
            kind__in=(Transaction.Kind.SPEND, Transaction.Kind.REIMBURSEMENT, Transaction.Kind.BILL),
        )
        .distinct()
        .select_related("employee", "department")
    )


def receipts_visible(*, user: User) -> QuerySet[Receipt]:
    return (
        Receipt.objects.of(user.organization)
        .filter(transaction__in=spends_with_visible_receipts(user=user).values("id"))
        .select_related("uploaded_by", "transaction")
    )


def receipt_visible_to(*, user: User, receipt: Receipt) -> bool:
    return receipts_visible(user=user).filter(id=receipt.id).exists()


def receipts_of_spend(*, user: User, transaction_id: uuid.UUID) -> QuerySet[Receipt]:
    return receipts_visible(user=user).filter(transaction_id=transaction_id)


def with_receipt_counts(spends: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """The spends, each with `receipt_count`."""
    return spends.annotate(receipt_count=Count("receipts"))


def spends_missing_receipts(
    *, organization_id: uuid.UUID, employee_id: uuid.UUID | None = None
) -> QuerySet[Transaction]:
    """Posted spends above the receipt amount of the policy version they were settled on, with no
    receipt; oldest first. A version without a receipt rule asks none of its spends."""
    thresholds = control_selectors.receipt_thresholds(organization_id=organization_id)
    versions_by_threshold: dict[int, list[int]] = {}
    for version, threshold in thresholds.items():
        versions_by_threshold.setdefault(threshold, []).append(version)
    if not versions_by_threshold:
        return Transaction.objects.none()
    required = Q()
    for threshold, versions in versions_by_threshold.items():
        required |= Q(policy_version__in=versions, amount_minor__gt=threshold)
    spends = Transaction.objects.filter(
        required,
        organization_id=organization_id,
        kind=Transaction.Kind.SPEND,
        status=Transaction.Status.POSTED,
    ).filter(~Exists(Receipt.objects.filter(transaction_id=OuterRef("id"))))
    if employee_id is not None:
        spends = spends.filter(employee_id=employee_id)
    return spends.select_related("employee", "department").order_by("created_at", "id")


def organizations_requiring_receipts() -> list[uuid.UUID]:
    return control_selectors.organizations_requiring_receipts()


def receipt_required_above(*, spend: Transaction) -> int | None:
    """The amount above which this spend's policy version asks for a receipt; None when it asks none."""
    if spend.policy_version is None:
        return None
    return control_selectors.receipt_thresholds(organization_id=spend.organization_id).get(spend.policy_version)
