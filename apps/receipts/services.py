"""Writes of receipts: attach one to a spend, remove it, process it, and remind of missing ones.

The one writer of Receipt and ReceiptReminder. The file is checked and re-encoded (apps/receipts/files.py)
before anything is stored; the row and the file are written together, and a file written for a row
that does not commit is removed again. Processing (the thumbnail) runs in a Celery task after commit, and
reading (apps/receipts/reading.py, slower) in another after it.
"""

import logging
import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.controls import selectors as control_selectors
from apps.ledger.models import Transaction
from apps.tenancy.models import User
from apps.webhooks.events import receipt_missing_payload, transaction_payload
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit
from ledgerx.errors import Conflict, Forbidden, NotFound

from . import selectors
from .files import READING_SIDE, receipt_file_check, receipt_picture, thumbnail_of
from .models import ReadingStatus, Receipt, ReceiptReminder
from .reading import ReadingUnavailable, read_receipt, reading_mismatches

logger = logging.getLogger(__name__)

# A receipt is attached to a spend that stands or may still stand; not to one rejected or reversed.
ATTACHABLE = (Transaction.Status.PENDING, Transaction.Status.AWAITING_APPROVAL, Transaction.Status.POSTED)
ORIGINAL_NAME_MAX = 255


def _process_request(receipt_id: uuid.UUID) -> None:
    """Queue the processing. If the broker is unreachable, the sweep queues it later."""
    from .tasks import process_receipt

    try:
        process_receipt.delay(str(receipt_id))
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue receipt %s, the sweep will: %s", receipt_id, error)


def receipt_upload(*, actor: User, transaction_id: uuid.UUID, data: bytes, original_name: str) -> Receipt:
    """Attach a file to the actor's own spend.

    Only the spender attaches receipts: they hold the paper. Another person who may see the spend is
    refused (403); a spend they may not see is not found. The file is refused (400) unless its content
    is a JPEG, PNG, HEIC or PDF within the limits; nothing is stored then.
    """
    spend = selectors.spends_with_visible_receipts(user=actor).filter(id=transaction_id).first()
    if spend is None:
        raise NotFound("Transaction not found.")
    if spend.employee_id != actor.id:
        raise Forbidden("Only the spender attaches receipts to a spend.")
    checked = receipt_file_check(data)
    receipt_id = uuid.uuid4()
    storage = selectors.receipt_storage()
    file_name = storage.save(
        f"{spend.organization_id}/{receipt_id}/receipt.{checked.extension}", ContentFile(checked.data)
    )
    try:
        with transaction.atomic():
            locked = Transaction.objects.select_for_update().get(id=spend.id)
            if locked.status not in ATTACHABLE:
                raise Conflict(f"The spend is {locked.get_status_display().lower()}: it takes no receipt.")
            if Receipt.objects.filter(transaction=locked).count() >= settings.RECEIPTS_PER_SPEND_MAX:
                raise Conflict(f"A spend takes at most {settings.RECEIPTS_PER_SPEND_MAX} receipts.")
            if Receipt.objects.filter(transaction=locked, sha256=checked.sha256).exists():
                raise Conflict("This file is already attached to the spend.")
            receipt = Receipt.objects.create(
                id=receipt_id,
                organization_id=spend.organization_id,
                transaction=locked,
                uploaded_by=actor,
                file_name=file_name,
                original_name=_people_name(original_name),
                content_type=checked.content_type,
                size=len(checked.data),
                sha256=checked.sha256,
            )
            transaction.on_commit(lambda: _process_request(receipt_id))
    except (Conflict, IntegrityError) as error:
        storage.delete(file_name)
        if isinstance(error, IntegrityError):
            raise Conflict("This file is already attached to the spend.") from None
        raise
    except BaseException:
        storage.delete(file_name)
        raise
    return receipt


def receipt_delete(*, actor: User, receipt_id: uuid.UUID) -> None:
    """Remove a receipt: its uploader may, while the spend stands or may still stand (a reversed spend
    keeps its receipts as evidence). Someone else who may see it: 403."""
    receipt = selectors.receipts_visible(user=actor).filter(id=receipt_id).first()
    if receipt is None:
        raise NotFound("Receipt not found.")
    if receipt.uploaded_by_id != actor.id:
        raise Forbidden("Only the person who attached a receipt removes it.")
    with transaction.atomic():
        spend = Transaction.objects.select_for_update().get(id=receipt.transaction_id)
        if spend.status not in ATTACHABLE:
            raise Conflict(f"The spend is {spend.get_status_display().lower()}: its receipts are kept.")
        Receipt.objects.filter(id=receipt.id).delete()
        names = [name for name in (receipt.file_name, receipt.thumbnail_name) if name]
        transaction.on_commit(lambda: _files_delete(names))


def _files_delete(names: list[str]) -> None:
    storage = selectors.receipt_storage()
    for name in names:
        storage.delete(name)


def receipt_process(*, receipt_id: uuid.UUID | str) -> Receipt | None:
    """Make a processing receipt's thumbnail, then mark it ready (or failed: the file cannot be drawn).

    Idempotent: a receipt already processed, or removed, is left as it is. A storage error propagates,
    so the task retries. Later steps on the same bytes (reading the receipt's text) belong here.
    """
    receipt = Receipt.objects.filter(id=receipt_id, status=Receipt.Status.PROCESSING).first()
    if receipt is None:
        return None
    storage = selectors.receipt_storage()
    with storage.open(receipt.file_name, "rb") as stored:
        data = stored.read()
    # Read next, whatever the thumbnail's fate: a file that cannot be drawn is marked unread there.
    transaction.on_commit(lambda: _read_request(receipt.id))
    try:
        thumbnail = thumbnail_of(data, receipt.content_type)
    except ValueError as error:
        return _processed(receipt, status=Receipt.Status.FAILED, failure=str(error))
    name = f"{receipt.organization_id}/{receipt.id}/thumbnail.jpg"
    # A retry after a crash between saving and marking finds the file: replace it, keep the name.
    storage.delete(name)
    thumbnail_name = storage.save(name, ContentFile(thumbnail))
    return _processed(receipt, status=Receipt.Status.READY, thumbnail_name=thumbnail_name)


def _read_request(receipt_id: uuid.UUID) -> None:
    """Queue the reading. If the broker is unreachable, the sweep queues it later."""
    from .tasks import read_receipt_text

    try:
        read_receipt_text.delay(str(receipt_id))
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue the reading of receipt %s, the sweep will: %s", receipt_id, error)


def receipt_read(*, receipt_id: uuid.UUID | str) -> Receipt | None:
    """Read the receipt's total, currency, date and merchant, and flag where they disagree with its spend
    (the amount as spent, in its currency; the day of the spend, or of the claimed purchase; its budget month).

    For a reviewer only: a reading never blocks or changes the spend, and nothing leaves the machine.
    Idempotent: a receipt already read is left as it is. Without Tesseract, or for a file that cannot be
    drawn, the receipt is marked unavailable. A storage error propagates, so the task retries.
    """
    receipt = (
        Receipt.objects.select_related("transaction__organization")
        .filter(id=receipt_id, reading_status=ReadingStatus.PENDING)
        .first()
    )
    if receipt is None:
        return None
    with selectors.receipt_storage().open(receipt.file_name, "rb") as stored:
        data = stored.read()
    try:
        reading = read_receipt(receipt_picture(data, receipt.content_type, longest_side=READING_SIDE))
    except (ReadingUnavailable, ValueError) as error:
        logger.warning("receipt %s could not be read: %s", receipt.id, error)
        return _read(receipt, status=ReadingStatus.UNAVAILABLE)
    spend = receipt.transaction
    zone = zoneinfo.ZoneInfo(spend.organization.timezone)
    period_end = (spend.budget_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    mismatches = reading_mismatches(
        reading,
        amount_minor=spend.original_amount_minor,
        currency=spend.original_currency,
        spent_on=spend.incurred_on or spend.created_at.astimezone(zone).date(),
        period_start=spend.budget_month,
        period_end=period_end,
    )
    return _read(
        receipt,
        status=ReadingStatus.READ,
        read_total=reading.total_decimal or "",
        read_currency=reading.currency or "",
        read_date=reading.date,
        read_merchant=(reading.merchant or "")[:200],
        mismatches=[{"code": mismatch.code, "message": mismatch.message} for mismatch in mismatches],
    )


def _read(receipt: Receipt, *, status: str, **reading) -> Receipt:
    Receipt.objects.filter(id=receipt.id, reading_status=ReadingStatus.PENDING).update(
        reading_status=status, read_at=timezone.now(), **reading
    )
    receipt.refresh_from_db()
    return receipt


def _processed(receipt: Receipt, *, status: str, thumbnail_name: str = "", failure: str = "") -> Receipt:
    updated = Receipt.objects.filter(id=receipt.id, status=Receipt.Status.PROCESSING).update(
        status=status, thumbnail_name=thumbnail_name, failure=failure, processed_at=timezone.now()
    )
    if not updated and thumbnail_name:
        selectors.receipt_storage().delete(thumbnail_name)
    receipt.refresh_from_db()
    return receipt


def receipt_processing_failed(*, receipt_id: uuid.UUID | str, reason: str) -> None:
    """The task gave up (its retries are spent): the receipt keeps its file, shown without a preview."""
    Receipt.objects.filter(id=receipt_id, status=Receipt.Status.PROCESSING).update(
        status=Receipt.Status.FAILED, failure=reason[:1000], processed_at=timezone.now()
    )


def receipts_sweep(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Queue again the receipts still processing, or processed but not read, long after their upload (a lost
    message)."""
    since = timezone.now() - older_than
    stuck = list(
        Receipt.objects.filter(status=Receipt.Status.PROCESSING, created_at__lt=since)
        .order_by("created_at")
        .values_list("id", flat=True)[:500]
    )
    for receipt_id in stuck:
        _process_request(receipt_id)
    unread = list(
        Receipt.objects.filter(reading_status=ReadingStatus.PENDING, created_at__lt=since)
        .exclude(status=Receipt.Status.PROCESSING)
        .order_by("created_at")
        .values_list("id", flat=True)[:500]
    )
    for receipt_id in unread:
        _read_request(receipt_id)
    return len(stuck) + len(unread)


def receipt_reminders_send(*, organization_id: uuid.UUID, now: datetime | None = None) -> int:
    """Remind the spenders of the organization's spends missing a receipt: a `receipt.missing` webhook
    event per spend, at most once every RECEIPT_REMINDER_EVERY_HOURS (the employee's page lists them
    always). Returns how many reminders were sent."""
    now = now or timezone.now()
    due_before = now - timedelta(hours=settings.RECEIPT_REMINDER_EVERY_HOURS)
    thresholds = control_selectors.receipt_thresholds(organization_id=organization_id)
    sent = 0
    for spend in selectors.spends_missing_receipts(organization_id=organization_id):
        with transaction.atomic():
            reminder = ReceiptReminder.objects.select_for_update().filter(transaction=spend).first()
            if reminder is not None and reminder.last_sent_at > due_before:
                continue
            if reminder is None:
                reminder = ReceiptReminder.objects.create(
                    organization_id=organization_id, transaction=spend, last_sent_at=now
                )
            else:
                reminder.last_sent_at = now
                reminder.sent_count += 1
                reminder.save(update_fields=["last_sent_at", "sent_count"])
            outbox_emit(
                organization_id=organization_id,
                event_type=EventType.RECEIPT_MISSING,
                payload=receipt_missing_payload(
                    transaction=_spend_payload(spend),
                    required_above_minor=thresholds[spend.policy_version],
                    currency=spend.currency,
                    reminder_number=reminder.sent_count,
                    occurred_at=now.isoformat(),
                ),
            )
        sent += 1
    return sent


def receipt_reminders_send_all() -> int:
    """receipt_reminders_send for every organization whose policy asks, or asked, for receipts."""
    return sum(
        receipt_reminders_send(organization_id=organization_id)
        for organization_id in control_selectors.organizations_requiring_receipts()
    )


def _spend_payload(spend: Transaction) -> dict:
    return transaction_payload(
        transaction_id=spend.id,
        status=spend.status,
        amount_minor=spend.amount_minor,
        currency=spend.currency,
        original_amount_minor=spend.original_amount_minor,
        original_currency=spend.original_currency,
        fx_rate=spend.fx_rate,
        fx_rate_date=spend.fx_rate_date,
        merchant=spend.merchant,
        category=spend.category,
        department_id=spend.department_id,
        department_name=spend.department.name,
        employee_id=spend.employee_id,
        employee_email=spend.employee.email,
        rejection_reason=spend.rejection_reason,
        occurred_at=spend.created_at.isoformat(),
    )["transaction"]


def _people_name(name: str) -> str:
    """The uploaded file's name, for people only (Content-Disposition): no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in base if ord(char) >= 32 and ord(char) != 127).strip()[:ORIGINAL_NAME_MAX]
