"""Reversal: a posted spend (or unpaid reimbursement claim) undone by a compensating journal, its budget released."""

import uuid

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.budgets.locks import organization_settlement_lock
from apps.controls.services import spend_tally_release
from apps.ledger.closing import month_is_closed
from apps.ledger.models import Transaction
from apps.ledger.selectors import claims_paid_out, transactions_paid_out
from apps.ledger.services import Journal, journal_write
from apps.tenancy.models import User
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, NotFound
from ledgerx.months import month_start

from .acceptance import clean_text
from .holds import spend_totals
from .idempotency import idempotent_create, replay_of, validate_key
from .money_events import money_events_emit


def transaction_reverse(
    *, actor: User, original_id: uuid.UUID, reason: str, idempotency_key: str
) -> tuple[Transaction, bool]:
    """Reverse a posted spend with a compensating journal and release the budget it consumed.

    Returns the reversal transaction and whether this call was a replay.
    """
    organization = actor.organization
    key = validate_key(idempotency_key)
    reason = clean_text(reason, field_name="reason", max_length=1000, required=True)
    if not Transaction.objects.of(organization).filter(id=original_id).exists():
        raise NotFound("Transaction not found.")
    request = {"kind": "reversal", "user": actor.id, "original": original_id, "reason": reason}

    def create(request_fingerprint: str) -> tuple[Transaction, bool]:
        with organization_settlement_lock(organization.id):
            # A repeat that waited here for its original finds the reversal, not an original already reversed.
            replayed = replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint)
            if replayed is not None:
                return replayed, True
            reversal = run_serializable(
                lambda: transaction_reverse_locked(
                    actor=actor,
                    original_id=original_id,
                    reason=reason,
                    key=key,
                    request_fingerprint=request_fingerprint,
                )
            )
            return reversal, False

    return idempotent_create(organization=organization, key=key, request=request, create=create)


def transaction_reverse_locked(
    *, actor: User, original_id: uuid.UUID, reason: str, key: str, request_fingerprint: str
) -> Transaction:
    """Write the reversal of a posted spend under `key`. The caller holds the organization's settlement
    lock, in a SERIALIZABLE transaction: transaction_reverse, or a fraud review reversing beside its
    verdict (fraud_review)."""
    original = Transaction.objects.select_for_update().get(id=original_id)
    if original.kind == Transaction.Kind.REVERSAL or original.status != Transaction.Status.POSTED:
        state = "already reversed" if original.status == Transaction.Status.REVERSED else original.status
        raise Conflict(f"Only a posted spend can be reversed; this one is {state}.")
    if original.kind == Transaction.Kind.REIMBURSEMENT and claims_paid_out(claim_ids=[original.id]):
        # Its money has left for the employee: undoing the expense would leave a payable the books
        # say is owed back, which only a recovery from the employee (not built) could settle.
        raise Conflict(
            "This reimbursement claim has been paid out in a payout batch and cannot be reversed; "
            "recover the amount from the employee outside LedgerX."
        )
    if original.kind == Transaction.Kind.BILL and transactions_paid_out(transaction_ids=[original.id]):
        # Paid to the vendor (even if returned since): its journal carries the payments, which a reversal
        # would not undo. A bill paid by mistake is recovered from the vendor, as a credit note.
        raise Conflict("This bill has been in a released payment run and cannot be reversed.")
    now = timezone.now()
    # Its journal is dated now, in the open month. It counts in its original's budget month, unless that
    # month is closed: then in the month it is posted in, whose budget it credits (the closed one's stays).
    budget_month = original.budget_month
    if month_is_closed(organization=original.organization, month=budget_month):
        budget_month = month_start(now, original.organization.timezone)
    reversal = Transaction.objects.create(
        organization_id=original.organization_id,
        kind=Transaction.Kind.REVERSAL,
        status=Transaction.Status.POSTED,
        amount_minor=original.amount_minor,
        currency=original.currency,
        # Exactly what was posted, at the original's rate: never converted again at today's.
        original_amount_minor=original.original_amount_minor,
        original_currency=original.original_currency,
        fx_rate=original.fx_rate,
        fx_rate_date=original.fx_rate_date,
        merchant=original.merchant,
        category=original.category,
        description=f"Reversal of {original.id}",
        department_id=original.department_id,
        employee_id=original.employee_id,
        created_by=actor,
        budget_month=budget_month,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
        created_at=now,
        processed_at=now,
        reversal_of=original,
        reason=reason,
    )
    totals, keys, _ = spend_totals(reversal)
    journal_write(
        organization=original.organization,
        journals=[
            Journal(
                transaction_id=reversal.id,
                department_id=original.department_id,
                amount_minor=-original.amount_minor,
                kind=original.kind,
                employee_id=original.employee_id,
                merchant=original.merchant,
                category=original.category,
                reverses=original.id,
            )
        ],
        now=now,
    )
    totals.unpost(keys, original.amount_minor)
    totals.write(now=now)
    spend_tally_release(spend=original)
    original.status = Transaction.Status.REVERSED
    original.save(update_fields=["status"])
    money_events_emit(
        organization=original.organization,
        spends=[(original, original.status, "")],
        totals=totals,
        occurred_at=now,
        extra={"reversal": {"id": str(reversal.id), "reason": reason}},
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSACTION_REVERSED,
        target=original,
        before={"status": Transaction.Status.POSTED},
        after={"status": Transaction.Status.REVERSED, "reversal": str(reversal.id), "reason": reason},
    )
    return reversal
