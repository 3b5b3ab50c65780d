"""The payloads of the reimbursement and payout batch webhook events (docs/api.md, "Webhooks")."""

from datetime import datetime

from apps.ledger.models import Transaction
from apps.webhooks.events import transaction_payload
from ledgerx.money import to_decimal_string

from .models import PayoutBatch


def claim_payload(claim: Transaction, *, status: str, occurred_at: datetime, batch: PayoutBatch | None = None) -> dict:
    """A claim as a transaction's payload, with the day it was incurred and, once paid, its batch."""
    payload = transaction_payload(
        transaction_id=claim.id,
        status=status,
        amount_minor=claim.amount_minor,
        currency=claim.currency,
        original_amount_minor=claim.original_amount_minor,
        original_currency=claim.original_currency,
        fx_rate=claim.fx_rate,
        fx_rate_date=claim.fx_rate_date,
        merchant=claim.merchant,
        category=claim.category,
        department_id=claim.department_id,
        department_name=claim.department.name,
        employee_id=claim.employee_id,
        employee_email=claim.employee.email,
        rejection_reason="",
        occurred_at=occurred_at.isoformat(),
    )
    payload["transaction"]["incurred_on"] = claim.incurred_on.isoformat() if claim.incurred_on else None
    if batch is not None:
        payload["payout_batch"] = {"id": str(batch.id), "reference": batch.reference}
    return payload


def batch_payload(batch: PayoutBatch, *, line_count: int) -> dict:
    return {
        "payout_batch": {
            "id": str(batch.id),
            "reference": batch.reference,
            "status": batch.status,
            "total": to_decimal_string(batch.total_minor, batch.currency),
            "currency": batch.currency,
            "claims": line_count,
            "export_sha256": batch.export_sha256,
        },
        "occurred_at": batch.released_at.isoformat(),
    }
