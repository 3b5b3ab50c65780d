"""A claim's receipt, kept by the receipts app as a receipt of the claim's transaction.

Every claim needs one: the company pays out its money on the employee's word only with the proof of the
purchase. (A card spend is different: its receipt comes after, where its spend policy asks for one.)
"""

import hashlib

from django.core.files.uploadedfile import UploadedFile

from apps.ledger.models import Transaction
from apps.receipts import services as receipt_services
from apps.tenancy.models import User
from ledgerx.errors import InvalidInput


def receipt_digest(upload: UploadedFile | None) -> str | None:
    """The SHA-256 of the upload, so that a replay of a claim with another receipt is refused as another request."""
    if upload is None:
        return None
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def claim_receipt_attach(*, actor: User, claim: Transaction, upload: UploadedFile | None) -> None:
    """Keep `upload` as the claim's receipt, in the transaction of the claim's INSERT; 400 on `receipt` when it
    is missing or the receipts app refuses the file (then the claim is not written either)."""
    if upload is None or not upload.size:
        raise InvalidInput(
            "A reimbursement claim needs its receipt.",
            fields={"receipt": ["Attach a photo or PDF of the receipt."]},
        )
    try:
        receipt_services.receipt_upload(
            actor=actor, transaction_id=claim.id, data=upload.read(), original_name=upload.name or "receipt"
        )
    except InvalidInput as error:
        raise InvalidInput(error.message, fields={"receipt": error.fields.get("file", [error.message])}) from None
