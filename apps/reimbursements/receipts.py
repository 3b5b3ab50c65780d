"""A claim's receipt: the ONE seam where the receipts app (apps/receipts, built on its own branch) plugs in.

The claim service hands every upload to `RECEIPTS.attach` inside the transaction that accepts the claim,
so a claim and its receipt are written together or not at all, and a refusal (400) leaves nothing.
On this branch `ReceiptsUnwired` stands in: it requires a receipt on every claim and checks its type and
size, but stores nothing. At the merge, `RECEIPTS` becomes the receipts app's implementation, which stores
the file as a Receipt of the claim's Transaction and asks the spend controls whether this claim needs one.
"""

import hashlib
from typing import Protocol

from django.core.files.uploadedfile import UploadedFile

from apps.ledger.models import Transaction
from apps.tenancy.models import User
from ledgerx.errors import InvalidInput

RECEIPT_CONTENT_TYPES = ("image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "application/pdf")


class ReceiptPort(Protocol):
    def attach(self, *, actor: User, claim: Transaction, upload: UploadedFile | None) -> None:
        """Keep `upload` as the claim's receipt; raise InvalidInput when it is missing but required, or unfit."""


def receipt_digest(upload: UploadedFile | None) -> str | None:
    """The SHA-256 of the upload, so that a replay of a claim with another receipt is refused as another request."""
    if upload is None:
        return None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


class ReceiptsUnwired:
    """Every claim needs a receipt of a known type; nothing is stored until the receipts app is merged."""

    def attach(self, *, actor: User, claim: Transaction, upload: UploadedFile | None) -> None:
        if upload is None or not upload.size:
            raise InvalidInput(
                "A reimbursement claim needs its receipt.",
                fields={"receipt": ["Attach a photo or PDF of the receipt."]},
            )
        if upload.content_type not in RECEIPT_CONTENT_TYPES:
            raise InvalidInput(
                f"A receipt is a photo or a PDF, not '{upload.content_type}'.",
                fields={"receipt": [f"One of: {', '.join(RECEIPT_CONTENT_TYPES)}."]},
            )


RECEIPTS: ReceiptPort = ReceiptsUnwired()
