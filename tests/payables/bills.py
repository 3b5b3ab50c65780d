"""Bills entered through the real service, with a real invoice file."""

import io
import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.ledger.models import Transaction
from apps.payables import bills


def invoice_file() -> SimpleUploadedFile:
    output = io.BytesIO()
    Image.new("RGB", (60, 80), tuple(uuid.uuid4().bytes[:3])).save(output, "PNG")
    return SimpleUploadedFile("invoice.png", output.getvalue(), content_type="image/png")


def local_today(organization) -> date:
    return timezone.localdate(timezone=ZoneInfo(organization.timezone))


def bill_submit(
    user,
    vendor,
    amount: str,
    *,
    number: str | None = None,
    currency: str | None = None,
    bill_date: date | None = None,
    due_in_days: int = 30,
    key: str | None = None,
) -> Transaction:
    bill_date = bill_date or local_today(user.organization)
    transaction, _ = bills.bill_submit(
        user=user,
        idempotency_key=key or f"bill-{uuid.uuid4()}",
        vendor_id=vendor.id,
        invoice_number=number or f"INV-{uuid.uuid4().hex[:8]}",
        amount=amount,
        currency=currency or user.organization.currency,
        bill_date=bill_date,
        due_date=bill_date + timedelta(days=due_in_days),
        department_id=None,
        description="",
        invoice=invoice_file(),
    )
    return transaction
