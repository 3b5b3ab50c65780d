"""Writes of payment runs: approved bills gathered from one paying account, released into the ledger and a
bank file (payments the bank returns: payment_returns.py).

A run is drafted (its bills reserved: a bill has one standing payment line, the database's partial unique
key), reviewed, and released once: under the organization's settlement lock, in one SERIALIZABLE
transaction, each bill's payment is written on its own journal (accounts payable debited, the bank credited:
apps/ledger bill_payment_journal_write), the bank file is written and kept with its SHA-256, and the events
are emitted. A file is never written again: downloads serve the stored bytes.
"""

import hashlib
import logging
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.budgets.locks import organization_settlement_lock
from apps.fx.selectors import RateMemo, spend_conversion
from apps.ledger.models import Transaction
from apps.ledger.services import BillPayment, bill_payment_journal_write
from apps.tenancy.models import User
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit_many
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, FxRateMissing, InvalidInput, NotFound
from ledgerx.money import MoneyError

from . import events
from .bank_details import ACH, SEPA, BankDetails
from .models import Bill, PayingAccount, PaymentLine, PaymentRun, Vendor, VendorBankChange
from .nacha import nacha_build
from .pain001 import pain001_build
from .selectors import bills_payable
from .vendors import require_finance

logger = logging.getLogger(__name__)
# Who drafted a run the schedule drafted, in its audit event.
SCHEDULE_LABEL = "payment run schedule"


def payment_run_create(
    *,
    actor: User,
    paying_account_id: uuid.UUID,
    due_until: date,
    execution_date: date,
    bill_ids: list[uuid.UUID] | None = None,
) -> PaymentRun:
    """Draft a run from a paying account of the actor's organization: the bills named, or every approved,
    unpaid bill in the account's currency due by `due_until` whose vendor is paid by the account's rail to
    approved details with no change waiting. A bill named that is not payable so is refused (400 naming
    it); none at all is a 400 too."""
    require_finance(actor)
    account = PayingAccount.objects.of(actor.organization).filter(id=paying_account_id).first()
    if account is None:
        raise NotFound("Paying account not found.")
    if execution_date < timezone.localdate():
        raise InvalidInput("The bank pays on a day to come.", fields={"execution_date": ["Today or later."]})
    return run_serializable(
        lambda: _run_create(
            actor=actor, account=account, due_until=due_until, execution_date=execution_date, bill_ids=bill_ids
        )
    )


def _run_create(
    *,
    actor: User | None,
    account: PayingAccount,
    due_until: date,
    execution_date: date,
    bill_ids: list[uuid.UUID] | None,
) -> PaymentRun:
    """The draft, by `actor` or (None) by the schedule."""
    organization = account.organization
    payable = bills_payable(organization=organization, paying_account=account, due_until=due_until)
    if bill_ids is not None:
        known = set(Bill.objects.of(organization).filter(id__in=bill_ids).values_list("id", flat=True))
        if set(bill_ids) - known:
            raise NotFound("Bill not found.")
        bills = list(payable.filter(id__in=bill_ids))
        unfit = sorted({str(bill_id) for bill_id in bill_ids} - {str(bill.id) for bill in bills})
        if unfit:
            raise InvalidInput(
                f"Only approved, unpaid bills in {account.currency} due by {due_until}, of vendors paid by "
                f"{account.get_rail_display()} to approved details, can be paid from {account.name}.",
                fields={"bills": [f"Not payable from this account: {bill_id}." for bill_id in unfit]},
            )
    else:
        bills = list(payable)
        if not bills:
            raise InvalidInput(
                f"No approved bills in {account.currency} are due by {due_until}.",
                fields={"due_until": ["No payable bill due by this day."]},
            )
    # Locked in id order (the order every run takes them in), so that two drafts never share a bill.
    locked = list(
        Transaction.objects.filter(id__in=[bill.transaction_id for bill in bills])
        .order_by("id")
        .select_for_update(of=("self",))
    )
    if any(t.status != Transaction.Status.POSTED for t in locked):
        raise Conflict("A bill changed while the run was drafted: draft it again.")
    vendors = {vendor.id: vendor for vendor in Vendor.objects.filter(id__in={bill.vendor_id for bill in bills})}
    now = timezone.now()
    run_id = uuid.uuid4()
    reference = f"LXV{now:%y%m%d}{run_id.hex[:10].upper()}"
    run = PaymentRun.objects.create(
        id=run_id,
        organization=organization,
        paying_account=account,
        reference=reference,
        currency=account.currency,
        total_minor=sum(bill.amount_minor for bill in bills),
        execution_date=execution_date,
        due_until=due_until,
        created_by=actor,
        created_at=now,
    )
    base_amounts = {t.id: t.amount_minor for t in locked}
    PaymentLine.objects.bulk_create(
        PaymentLine(
            organization=organization,
            run=run,
            bill=bill,
            vendor_id=bill.vendor_id,
            vendor_name=vendors[bill.vendor_id].legal_name,
            bank_details_version=vendors[bill.vendor_id].bank_details_version,
            amount_minor=bill.amount_minor,
            base_amount_minor=base_amounts[bill.transaction_id],
            # What it costs is known at release, at that day's rate: until then, what it is owed at.
            paid_base_amount_minor=base_amounts[bill.transaction_id],
            end_to_end_id=f"{reference}-{number:04d}",
            **vendors[bill.vendor_id].bank_details().as_dict(),
        )
        for number, bill in enumerate(sorted(bills, key=lambda b: (b.due_date, str(b.id))), start=1)
    )
    audit_record(
        actor=actor,
        actor_label="" if actor is not None else SCHEDULE_LABEL,
        action=AuditEvent.Action.PAYMENT_RUN_CREATED,
        target=run,
        after={"reference": reference, "bills": len(bills), "total_minor": run.total_minor, "currency": run.currency},
    )
    return run


def scheduled_runs_draft() -> list[PaymentRun]:
    """What beat does every hour: for each paying account on a schedule (`scheduled_due_within_days`) with no
    draft open, a draft of the bills due within its days, to be paid today in the organization's timezone.

    Drafts only: nothing is paid until a finance user reviews and releases the run. A schedule that finds
    nothing to pay drafts nothing."""
    drafted = []
    accounts = (
        PayingAccount.objects.filter(scheduled_due_within_days__isnull=False)
        .exclude(runs__status=PaymentRun.Status.DRAFT)
        .select_related("organization")
    )
    for account in accounts:
        today = timezone.localdate(timezone=ZoneInfo(account.organization.timezone))
        due_until = today + timedelta(days=account.scheduled_due_within_days)
        if not bills_payable(organization=account.organization, paying_account=account, due_until=due_until).exists():
            continue
        try:
            drafted.append(
                run_serializable(
                    lambda account=account, due_until=due_until, today=today: _run_create(
                        actor=None, account=account, due_until=due_until, execution_date=today, bill_ids=None
                    )
                )
            )
        except (Conflict, InvalidInput) as refusal:  # a bill changed, or another draft took them: next hour
            logger.info("scheduled payment run for %s not drafted: %s", account.id, refusal.message)
    return drafted


def payment_run_release(*, actor: User, run_id: uuid.UUID) -> PaymentRun:
    """Pay a draft run: each bill's payment in the ledger, the bank file written and kept, the events.

    Refused (409) when released already, when a bill was reversed since the draft, or when a vendor's
    payment details changed or a change waits for approval since: a run pays only details two people
    approved, as they were when it was reviewed."""
    require_finance(actor)
    with organization_settlement_lock(actor.organization_id):
        return run_serializable(lambda: _run_release(actor=actor, run_id=run_id))


def _run_release(*, actor: User, run_id: uuid.UUID) -> PaymentRun:
    try:
        run = (
            PaymentRun.objects.of(actor.organization)
            .select_related("organization", "paying_account")
            .select_for_update(of=("self",))
            .get(id=run_id)
        )
    except PaymentRun.DoesNotExist:
        raise NotFound("Payment run not found.") from None
    if run.status != PaymentRun.Status.DRAFT:
        raise Conflict(f"Payment run {run.reference} was released on {run.released_at:%Y-%m-%d}.")
    lines = list(run.lines.select_related("bill", "bill__vendor").order_by("end_to_end_id"))
    transactions = {
        t.id: t
        for t in Transaction.objects.filter(id__in=[line.bill.transaction_id for line in lines])
        .order_by("id")
        .select_for_update(of=("self",))
    }
    not_owed = [line.bill.invoice_number for line in lines if transactions[line.bill.transaction_id].status != "posted"]
    if not_owed:
        raise Conflict(f"Bills reversed since the run was drafted: {', '.join(not_owed)}. Discard it and draft again.")
    vendors = {v.id: v for v in Vendor.objects.filter(id__in={line.vendor_id for line in lines}).select_for_update()}
    waiting = set(
        VendorBankChange.objects.filter(vendor_id__in=vendors, status=VendorBankChange.Status.PENDING).values_list(
            "vendor_id", flat=True
        )
    )
    changed = sorted(
        {
            line.vendor_name
            for line in lines
            if line.vendor_id in waiting
            or vendors[line.vendor_id].bank_details_version != line.bank_details_version
            or vendors[line.vendor_id].bank_details() != _line_details(line)
        }
    )
    if changed:
        raise Conflict(
            f"Payment details of {', '.join(changed)} changed, or a change waits for a second approval, since "
            "the run was drafted: discard it and draft again once the change is decided."
        )
    now = timezone.now()
    _payments_cost(run, lines, at=now)
    if run.paying_account.rail == ACH:
        _trace_numbers_assign(run, lines)
    bill_payment_journal_write(
        organization=run.organization,
        payments=[
            BillPayment(line.bill.transaction_id, line.base_amount_minor, line.paid_base_amount_minor) for line in lines
        ],
        now=now,
    )
    invoice_numbers = {line.id: line.bill.invoice_number for line in lines}
    if run.paying_account.rail == SEPA:
        content = pain001_build(run=run, lines=lines, invoice_numbers=invoice_numbers, at=now)
        run.file_name = f"{run.reference}.pain.001.xml"
    else:
        content = nacha_build(run=run, lines=lines, at=now)
        run.file_name = f"{run.reference}.ach"
    run.status = PaymentRun.Status.RELEASED
    run.released_by = actor
    run.released_at = now
    run.file_content = content
    run.file_sha256 = hashlib.sha256(content).hexdigest()
    run.save(
        update_fields=[
            "status",
            "released_by",
            "released_at",
            "file_name",
            "file_content",
            "file_sha256",
            "fx_rate",
            "fx_rate_date",
        ]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PAYMENT_RUN_RELEASED,
        target=run,
        after={"reference": run.reference, "file_sha256": run.file_sha256, "total_minor": run.total_minor},
    )
    outbox_emit_many(
        organization_id=run.organization_id,
        events=[
            *(
                (EventType.BILL_PAID, events.bill_payload(line.bill, status="paid", occurred_at=now, line=line))
                for line in lines
            ),
            (EventType.PAYMENT_RUN_RELEASED, events.run_payload(run, line_count=len(lines))),
        ],
    )
    return run


def _payments_cost(run: PaymentRun, lines: list[PaymentLine], *, at: datetime) -> None:
    """What each payment costs in the base currency: in a run in another currency, its amount at the run's rate
    (apps/fx, the day of `at` in the organization's timezone, as spends are converted), which the bank is
    credited by; accounts payable is cleared at the bill's base amount and the difference is realised FX gain
    or loss. No rate for the day, or a payment worth nothing at it: refused (400), nothing paid."""
    organization = run.organization
    if run.currency == organization.currency:
        return
    rates: RateMemo = {}
    try:
        for line in lines:
            conversion = spend_conversion(
                organization=organization, currency=run.currency, amount_minor=line.amount_minor, at=at, rates=rates
            )
            line.paid_base_amount_minor = conversion.base_minor
    except FxRateMissing as missing:
        raise FxRateMissing(
            f"No {run.currency} to {organization.currency} rate for today: finance enters one or imports the ECB's "
            "file, then releases the run.",
            fields=missing.fields,
        ) from None
    except MoneyError as error:
        raise InvalidInput(f"At today's {run.currency} rate: {error}", fields={"fx_rate": [str(error)]}) from None
    run.fx_rate, run.fx_rate_date = conversion.rate, conversion.rate_date
    PaymentLine.objects.bulk_update(lines, ["paid_base_amount_minor"])


def _trace_numbers_assign(run: PaymentRun, lines: list[PaymentLine]) -> None:
    """Each ACH entry's trace number: the originating bank's 8 digits and a sequence that runs on through the
    organization's ACH payments (under its settlement lock), so a return file's trace names one payment."""
    latest = (
        PaymentLine.objects.of(run.organization)
        .exclude(trace_number="")
        .order_by("-id")
        .values_list("trace_number", flat=True)
        .first()
    )
    sequence = int(latest[8:]) if latest else 0
    odfi = run.paying_account.routing_number[:8]
    for line in lines:
        sequence = sequence % (10**7 - 1) + 1
        line.trace_number = f"{odfi}{sequence:07d}"
    PaymentLine.objects.bulk_update(lines, ["trace_number"])


def _line_details(line: PaymentLine) -> BankDetails:
    return BankDetails(
        rail=line.rail,
        iban=line.iban,
        bic=line.bic,
        routing_number=line.routing_number,
        account_number=line.account_number,
        account_type=line.account_type,
    )


def payment_run_discard(*, actor: User, run_id: uuid.UUID) -> None:
    """Delete a draft run and its lines, which frees its bills for another run. No money had moved."""
    require_finance(actor)
    with transaction.atomic():
        run = PaymentRun.objects.of(actor.organization).select_for_update().filter(id=run_id).first()
        if run is None:
            raise NotFound("Payment run not found.")
        if run.status != PaymentRun.Status.DRAFT:
            raise Conflict(f"Payment run {run.reference} is released: its payments are in the ledger.")
        audit_record(
            actor=actor, action=AuditEvent.Action.PAYMENT_RUN_DISCARDED, target=run, before={"reference": run.reference}
        )
        run.delete()
