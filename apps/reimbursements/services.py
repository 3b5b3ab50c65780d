"""Writes of reimbursements: a claim submitted through the spend intake, payout batches made and released.

A claim is a Transaction of kind `reimbursement`: accepted by apps/spending's intake, settled, held for
approval and reversed exactly as a card spend (one path for money); only its journal's credit differs
(the employee's payable, apps/ledger credit_account_kind). Releasing a batch writes each claim's payout
(debit the payable, credit payout clearing) through the ledger's writer.
"""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.budgets.locks import organization_settlement_lock
from apps.ledger.models import Transaction
from apps.ledger.selectors import claims_paid_out
from apps.ledger.services import Payout, payout_journal_write
from apps.spending.services import transaction_submit
from apps.tenancy.models import Organization, User
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit, outbox_emit_many
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, InvalidInput, NotFound

from . import events
from .export import batch_export_sha256
from .models import PayoutBatch, PayoutLine
from .receipts import claim_receipt_attach, receipt_digest
from .selectors import local_today

# How old a purchase may be when it is claimed.
CLAIM_MAX_AGE = timedelta(days=365)


def claim_submit(
    *,
    user: User,
    idempotency_key: str,
    amount: str,
    currency: str,
    merchant: str,
    category: str,
    incurred_on: date,
    description: str,
    department_id: uuid.UUID | None,
    receipt: UploadedFile | None,
) -> tuple[Transaction, bool]:
    """Accept an out-of-pocket expense claim as a pending `reimbursement` through the spend intake.

    Same Idempotency-Key rules, admission (frozen spender, rate limit, spend policy) and settlement as a
    spend, from the same department (the claimant's own unless named; employees only their own). The
    receipt is kept by the receipts app (every claim needs one) in the transaction of the claim's INSERT, and
    `reimbursement.submitted` is emitted there too. Returns the claim and whether this was a replay.
    """
    today = local_today(user.organization)
    if incurred_on > today:
        raise InvalidInput("A claim is for a purchase already made.", fields={"incurred_on": ["Not in the future."]})
    if incurred_on < today - CLAIM_MAX_AGE:
        raise InvalidInput(
            f"A purchase is claimed within {CLAIM_MAX_AGE.days} days.",
            fields={"incurred_on": [f"At most {CLAIM_MAX_AGE.days} days ago."]},
        )

    def on_accept(claim: Transaction) -> None:
        outbox_emit(
            organization_id=claim.organization_id,
            event_type=EventType.REIMBURSEMENT_SUBMITTED,
            payload=events.claim_payload(claim, status=Transaction.Status.PENDING, occurred_at=claim.created_at),
        )
        # Last: its file is stored before its row, and only a failed commit after this would leave it orphaned.
        claim_receipt_attach(actor=user, claim=claim, upload=receipt)

    return transaction_submit(
        user=user,
        idempotency_key=idempotency_key,
        amount=amount,
        currency=currency,
        merchant=merchant,
        category=category,
        description=description,
        department_id=department_id,
        kind=Transaction.Kind.REIMBURSEMENT,
        incurred_on=incurred_on,
        on_accept=on_accept,
        fingerprint_extra={"receipt_sha256": receipt_digest(receipt)},
    )


def batch_create(
    *, actor: User, organization: Organization, claim_ids: list[uuid.UUID] | None, approved_until: date | None
) -> PayoutBatch:
    """Gather approved, unpaid claims into a draft batch: the ones named, or all approved up to a day.

    A claim named that is not this organization's is not found (404); one that is not approved (posted),
    or is already in a batch, is refused (400 naming it). Each claim is locked while it is gathered, and
    is on one line ever (PayoutLine.claim is unique), so two batches made at once never share a claim.
    """
    if (claim_ids is None) == (approved_until is None):
        raise InvalidInput(
            "Name the claims, or the day up to which approved claims are paid; one of the two.",
            fields={"claims": ["Give `claims` or `approved_until`."]},
        )
    return run_serializable(
        lambda: _batch_create(
            actor=actor, organization=organization, claim_ids=claim_ids, approved_until=approved_until
        )
    )


def _batch_create(
    *, actor: User, organization: Organization, claim_ids: list[uuid.UUID] | None, approved_until: date | None
) -> PayoutBatch:
    unpaid = Transaction.objects.of(organization).filter(
        kind=Transaction.Kind.REIMBURSEMENT, status=Transaction.Status.POSTED, payout_line__isnull=True
    )
    if claim_ids is not None:
        known = set(
            Transaction.objects.of(organization)
            .filter(id__in=claim_ids, kind=Transaction.Kind.REIMBURSEMENT)
            .values_list("id", flat=True)
        )
        if set(claim_ids) - known:
            raise NotFound("Claim not found.")
        claims = list(unpaid.filter(id__in=claim_ids).order_by("id").select_for_update(of=("self",)))
        unfit = sorted({str(claim_id) for claim_id in claim_ids} - {str(claim.id) for claim in claims})
        if unfit:
            raise InvalidInput(
                "Only approved claims not yet in a batch can be paid: " + ", ".join(unfit) + ".",
                fields={"claims": [f"Not an approved, unbatched claim: {claim_id}." for claim_id in unfit]},
            )
    else:
        until = _local_midnight_after(approved_until, organization)
        claims = list(unpaid.filter(processed_at__lt=until).order_by("id").select_for_update(of=("self",)))
        if not claims:
            raise InvalidInput(
                f"No approved claims wait for payment up to {approved_until}.",
                fields={"approved_until": ["No approved, unbatched claim up to this day."]},
            )
    now = timezone.now()
    batch_id = uuid.uuid4()
    emails = dict(User.objects.filter(id__in={c.employee_id for c in claims}).values_list("id", "email"))
    batch = PayoutBatch.objects.create(
        id=batch_id,
        organization=organization,
        reference=f"LXP-{now:%Y%m%d}-{batch_id.hex[:8].upper()}",
        currency=organization.currency,
        total_minor=sum(claim.amount_minor for claim in claims),
        created_by=actor,
        created_at=now,
    )
    PayoutLine.objects.bulk_create(
        PayoutLine(
            organization=organization,
            batch=batch,
            claim=claim,
            employee_id=claim.employee_id,
            employee_email=emails[claim.employee_id],
            amount_minor=claim.amount_minor,
        )
        for claim in claims
    )
    return batch


def _local_midnight_after(day: date, organization: Organization) -> datetime:
    """The start of the day after `day` in the organization's timezone."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(organization.timezone))


def batch_release(*, actor: User, batch_id: uuid.UUID) -> PayoutBatch:
    """Pay a draft batch of the actor's organization: write each claim's payout in the ledger, mark the
    batch released, emit the events.

    Under the organization's settlement lock, in one SERIALIZABLE transaction with the batch and its
    claims locked (claims in id order, the order batch_create locks them in): a batch is released once
    (a second release is a 409), and a claim reversed since the batch was drafted stops the release
    (409) rather than paying what is not owed.
    """
    # Under the settlement lock, as a reversal is: one of the two runs first and the other sees what it
    # wrote (a paid claim is not reversed; a reversed claim is not paid), not a snapshot from before.
    with organization_settlement_lock(actor.organization_id):
        return run_serializable(lambda: _batch_release(actor=actor, batch_id=batch_id))


def _batch_release(*, actor: User, batch_id: uuid.UUID) -> PayoutBatch:
    batch = (
        PayoutBatch.objects.of(actor.organization)
        .select_related("organization")
        .select_for_update(of=("self",))
        .get(id=batch_id)
    )
    if batch.status != PayoutBatch.Status.DRAFT:
        raise Conflict(f"Payout batch {batch.reference} was already released on {batch.released_at:%Y-%m-%d}.")
    lines = list(batch.lines.order_by("claim_id"))
    claims = {
        claim.id: claim
        for claim in Transaction.objects.filter(id__in=[line.claim_id for line in lines])
        .select_related("department", "employee")
        .order_by("id")
        .select_for_update(of=("self",))
    }
    not_owed = [str(claim.id) for claim in claims.values() if claim.status != Transaction.Status.POSTED]
    if not_owed:
        raise Conflict(
            f"Claims in payout batch {batch.reference} were reversed since it was made: {', '.join(not_owed)}. "
            "Discard the batch and make a new one."
        )
    # The ledger's own record agrees (it is what reversal reads): nothing here was paid before.
    paid = claims_paid_out(claim_ids=list(claims))
    if paid:
        raise Conflict(f"Claims already paid out: {', '.join(sorted(map(str, paid)))}.")
    now = timezone.now()
    payout_journal_write(
        organization=batch.organization,
        payouts=[Payout(line.claim_id, line.employee_id, line.amount_minor) for line in lines],
        now=now,
    )
    batch.status = PayoutBatch.Status.RELEASED
    batch.released_by = actor
    batch.released_at = now
    batch.export_sha256 = batch_export_sha256(batch)
    batch.save(update_fields=["status", "released_by", "released_at", "export_sha256"])
    outbox_emit_many(
        organization_id=batch.organization_id,
        events=[
            *(
                (
                    EventType.REIMBURSEMENT_PAID,
                    events.claim_payload(claims[line.claim_id], status="paid", occurred_at=now, batch=batch),
                )
                for line in lines
            ),
            (EventType.PAYOUT_BATCH_RELEASED, events.batch_payload(batch, line_count=len(lines))),
        ],
    )
    return batch


def batch_discard(*, actor: User, batch_id: uuid.UUID) -> None:
    """Delete a draft batch of the actor's organization and its lines, which frees its claims for another
    batch. No money had moved."""
    with transaction.atomic():
        batch = PayoutBatch.objects.of(actor.organization).select_for_update().get(id=batch_id)
        if batch.status != PayoutBatch.Status.DRAFT:
            raise Conflict(f"Payout batch {batch.reference} is released: its payouts are in the ledger.")
        batch.delete()
