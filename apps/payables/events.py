"""The payloads of the bill and payment run webhook events (docs/api.md, "Webhooks")."""

from datetime import datetime

from ledgerx.money import to_decimal_string

from .models import Bill, PaymentLine, PaymentRun


def bill_payload(bill: Bill, *, status: str, occurred_at: datetime, line: PaymentLine | None = None) -> dict:
    payload = {
        "bill": {
            "id": str(bill.id),
            "transaction_id": str(bill.transaction_id),
            "status": status,
            "vendor_id": str(bill.vendor_id),
            "vendor_name": bill.vendor.legal_name,
            "invoice_number": bill.invoice_number,
            "amount": to_decimal_string(bill.amount_minor, bill.currency),
            "currency": bill.currency,
            "bill_date": bill.bill_date.isoformat(),
            "due_date": bill.due_date.isoformat(),
        },
        "occurred_at": occurred_at.isoformat(),
    }
    if line is not None:
        payload["payment"] = {
            "payment_run_id": str(line.run_id),
            "end_to_end_id": line.end_to_end_id,
            "return_reason": line.return_reason,
        }
    return payload


def run_payload(run: PaymentRun, *, line_count: int) -> dict:
    return {
        "payment_run": {
            "id": str(run.id),
            "reference": run.reference,
            "status": run.status,
            "total": to_decimal_string(run.total_minor, run.currency),
            "currency": run.currency,
            "bills": line_count,
            "file_name": run.file_name,
            "file_sha256": run.file_sha256,
        },
        "occurred_at": run.released_at.isoformat(),
    }
