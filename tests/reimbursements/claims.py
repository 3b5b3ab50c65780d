"""Reimbursement claims made through the real services, and the receipts they carry."""

import io
import uuid
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.ledger.models import Transaction
from apps.reimbursements import selectors, services
from apps.reimbursements.models import PayoutBatch


def photo_jpeg() -> bytes:
    """A small real photo, of a colour of its own."""
    output = io.BytesIO()
    Image.new("RGB", (40, 60), tuple(uuid.uuid4().bytes[:3])).save(output, "JPEG")
    return output.getvalue()


def receipt_file(name: str = "receipt.jpg", content: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, photo_jpeg() if content is None else content, content_type=content_type)


def claim_submit(user, amount: str, *, merchant: str = "Taxi Co", category: str = "travel", key=None) -> Transaction:
    """A claim accepted through the real service, pending."""
    claim, _ = services.claim_submit(
        user=user,
        idempotency_key=key or f"claim-{uuid.uuid4()}",
        amount=amount,
        currency=user.organization.currency,
        merchant=merchant,
        category=category,
        incurred_on=selectors.local_today(user.organization),
        description="Airport taxi",
        department_id=None,
        receipt=receipt_file(),
    )
    return claim


def batch_of(actor, claims: list[Transaction]) -> PayoutBatch:
    return services.batch_create(
        actor=actor, organization=actor.organization, claim_ids=[claim.id for claim in claims], approved_until=None
    )


def batch_of_all(actor, until: date | None = None) -> PayoutBatch:
    return services.batch_create(
        actor=actor,
        organization=actor.organization,
        claim_ids=None,
        approved_until=until or selectors.local_today(actor.organization),
    )


def status_of(user, claim: Transaction) -> str:
    return selectors.claim_status(selectors.claims_visible(user=user).get(id=claim.id))
