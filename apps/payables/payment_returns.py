"""Writes of returned payments: a payment the bank sent back, entered by hand or read from the bank's return
file, reopens its bill's payable through one service (payment_return_locked).

Return files: NACHA return entries (an entry detail record with an addenda record of type 99 carrying the
return reason code and the original entry's trace number, matched to our payment lines by that trace number),
and, for SEPA, the ISO 20022 pain.002 payment status report: the bank's answer to our pain.001, whose rejected
transactions name our message id and end-to-end id exactly (returns.py reads both). A file is taken once
(its SHA-256 per organization); every entry's outcome is kept with it, an unknown reference reported, never
skipped in silence.
"""

import codecs
import hashlib

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.budgets.locks import organization_settlement_lock
from apps.ledger.models import Transaction
from apps.ledger.services import BillPayment, bill_payment_journal_write
from apps.tenancy.models import User
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit_many
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, InvalidInput, NotFound

from . import events
from .bank_details import ACH, SEPA
from .models import PaymentLine, PaymentRun, ReturnFile
from .returns import ReturnedEntry, nacha_returns, pain002_rejections
from .vendors import require_finance

RETURN_FILE_MAX_BYTES = 5 * 1024 * 1024


def payment_return(*, actor: User, line_id: int, reason: str) -> PaymentLine:
    """Record that the bank sent a released payment back, by hand (a return file: payment_returns): the
    payment's legs are flipped on the bill's journal (the bank credited back, accounts payable owed again,
    any FX gain or loss undone), the line is marked returned, and the bill can be paid in a later run. Once
    per line (409 after)."""
    require_finance(actor)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise InvalidInput("Say why the bank returned it.", fields={"reason": ["Required, up to 200 characters."]})
    with organization_settlement_lock(actor.organization_id):
        return run_serializable(lambda: payment_return_locked(actor=actor, line_id=line_id, reason=reason))


def payment_return_locked(
    *, actor: User, line_id: int, reason: str, return_file: ReturnFile | None = None
) -> PaymentLine:
    """The return of one payment, audited and emitted as `bill.payment_returned`; the caller holds the
    organization's settlement lock in a SERIALIZABLE transaction."""
    line = (
        PaymentLine.objects.of(actor.organization)
        .select_related("run", "bill", "bill__vendor", "organization")
        .select_for_update(of=("self",))
        .filter(id=line_id)
        .first()
    )
    if line is None:
        raise NotFound("Payment not found.")
    if line.run.status != PaymentRun.Status.RELEASED:
        raise Conflict("This payment's run is not released: nothing was paid to return.")
    if line.returned_at is not None:
        raise Conflict(f"This payment was returned already, on {line.returned_at:%Y-%m-%d}.")
    Transaction.objects.select_for_update().get(id=line.bill.transaction_id)
    now = timezone.now()
    bill_payment_journal_write(
        organization=line.organization,
        payments=[
            BillPayment(line.bill.transaction_id, line.base_amount_minor, line.paid_base_amount_minor, returned=True)
        ],
        now=now,
    )
    line.returned_at = now
    line.return_reason = reason
    line.return_file = return_file
    line.save(update_fields=["returned_at", "return_reason", "return_file"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PAYMENT_RETURNED,
        target=line.bill,
        after={
            "payment_run": line.run.reference,
            "end_to_end_id": line.end_to_end_id,
            "reason": reason,
            "return_file": str(return_file.id) if return_file else None,
        },
    )
    outbox_emit_many(
        organization_id=line.organization_id,
        events=[
            (
                EventType.BILL_PAYMENT_RETURNED,
                events.bill_payload(line.bill, status="returned", occurred_at=now, line=line),
            )
        ],
    )
    return line


def return_file_import(*, actor: User, file_name: str, content: bytes) -> ReturnFile:
    """Read a return file of the bank (NACHA returns, or a pain.002 status report: told apart by their first
    byte) and return each payment it names through payment_return_locked, all in one transaction: the file
    is kept with its SHA-256 and each entry's outcome: `returned`, `already_returned` (by hand, or by an
    earlier file), `not_released` or `unknown` (no payment of ours has its trace number or end-to-end id).
    A file taken before is refused (409), as is one that is not a return file (400), writing nothing."""
    require_finance(actor)
    if not content or len(content) > RETURN_FILE_MAX_BYTES:
        raise InvalidInput(
            "Upload the bank's return file.",
            fields={"file": [f"A file of up to {RETURN_FILE_MAX_BYTES // (1024 * 1024)} MB."]},
        )
    if content.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<"):
        file_format, entries = ReturnFile.Format.PAIN_002, pain002_rejections(content)
    else:
        file_format, entries = ReturnFile.Format.NACHA, nacha_returns(content)
    with organization_settlement_lock(actor.organization_id):
        return run_serializable(
            lambda: _return_file_import(
                actor=actor, file_name=file_name[:200], content=content, file_format=file_format, entries=entries
            )
        )


def _return_file_import(
    *, actor: User, file_name: str, content: bytes, file_format: str, entries: list[ReturnedEntry]
) -> ReturnFile:
    checksum = hashlib.sha256(content).hexdigest()
    earlier = ReturnFile.objects.of(actor.organization).filter(sha256=checksum).first()
    if earlier is not None:
        raise Conflict(
            f"This file was uploaded on {earlier.uploaded_at:%Y-%m-%d %H:%M} UTC as {earlier.file_name} "
            f"(return file {earlier.id}): its returns are recorded once."
        )
    return_file = ReturnFile.objects.create(
        organization=actor.organization,
        format=file_format,
        file_name=file_name,
        content=content,
        sha256=checksum,
        uploaded_by=actor,
    )
    outcomes = []
    for entry in entries:
        named = _lines_named(actor, file_format=file_format, entry=entry)
        if not named:
            outcomes.append(
                {"reference": entry.reference or entry.message_id, "reason": entry.reason, "outcome": "unknown"}
            )
        for line in named:
            if line.run.status != PaymentRun.Status.RELEASED:
                outcome = "not_released"
            elif line.returned_at is not None:
                outcome = "already_returned"
            else:
                payment_return_locked(actor=actor, line_id=line.id, reason=entry.reason, return_file=return_file)
                outcome = "returned"
            outcomes.append(
                {
                    "reference": entry.reference or line.end_to_end_id,
                    "reason": entry.reason,
                    "outcome": outcome,
                    "payment": line.id,
                }
            )
    return_file.outcomes = outcomes
    return_file.save(update_fields=["outcomes"])
    return return_file


def _lines_named(actor: User, *, file_format: str, entry: ReturnedEntry) -> list[PaymentLine]:
    lines = PaymentLine.objects.of(actor.organization).select_related("run").order_by("id")
    if file_format == ReturnFile.Format.NACHA:
        return list(lines.filter(rail=ACH, trace_number=entry.reference)) if entry.reference else []
    if entry.reference:
        return list(lines.filter(rail=SEPA, end_to_end_id=entry.reference))
    return list(lines.filter(rail=SEPA, run__reference=entry.message_id))
