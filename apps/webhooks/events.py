"""The payloads of the events LedgerX emits, built from plain values so any service can emit them.

Times come as ISO 8601 text: a settlement batch formats its one instant once, not once per spend.
"""

import uuid
from datetime import date
from decimal import Decimal

from ledgerx.money import fx_representation, to_decimal_string

# Percentages of a budget period's limit whose crossing emits `budget.threshold_crossed`.
BUDGET_THRESHOLDS = (80, 100)


def transaction_payload(
    *,
    transaction_id: uuid.UUID,
    status: str,
    amount_minor: int,
    currency: str,
    original_amount_minor: int,
    original_currency: str,
    fx_rate: Decimal,
    fx_rate_date: date | None,
    merchant: str,
    category: str,
    department_id: uuid.UUID,
    department_name: str,
    employee_id: uuid.UUID,
    employee_email: str,
    rejection_reason: str,
    occurred_at: str,
) -> dict:
    return {
        "transaction": {
            "id": str(transaction_id),
            "status": status,
            "amount": to_decimal_string(amount_minor, currency),
            "currency": currency,
            **fx_representation(
                original_amount_minor=original_amount_minor,
                original_currency=original_currency,
                fx_rate=fx_rate,
                fx_rate_date=fx_rate_date,
            ),
            "merchant": merchant,
            "category": category,
            "department": {"id": str(department_id), "name": department_name},
            "employee": {"id": str(employee_id), "email": employee_email},
            "rejection_reason": rejection_reason,
        },
        "occurred_at": occurred_at,
    }


def thresholds_crossed(*, before_minor: int, after_minor: int, limit_minor: int) -> list[int]:
    """The thresholds (percent of the limit) that spend moving from `before` to `after` crosses upwards."""
    return [
        threshold
        for threshold in BUDGET_THRESHOLDS
        if before_minor * 100 < threshold * limit_minor <= after_minor * 100
    ]


def budget_threshold_payload(
    *,
    department_id: uuid.UUID,
    department_name: str,
    month: date,
    threshold_percent: int,
    limit_minor: int,
    spent_minor: int,
    currency: str,
    occurred_at: str,
) -> dict:
    return {
        "budget": {
            "department": {"id": str(department_id), "name": department_name},
            "period": f"{month:%Y-%m}",
            "threshold_percent": threshold_percent,
            "limit": to_decimal_string(limit_minor, currency),
            "spent": to_decimal_string(spent_minor, currency),
            "currency": currency,
        },
        "occurred_at": occurred_at,
    }


def receipt_missing_payload(
    *,
    transaction: dict,
    required_above_minor: int,
    currency: str,
    reminder_number: int,
    occurred_at: str,
) -> dict:
    """A posted spend above its policy's receipt amount still has no receipt; `transaction` is
    transaction_payload()'s "transaction"."""
    return {
        "transaction": transaction,
        "receipt": {
            "required_above": to_decimal_string(required_above_minor, currency),
            "reminder_number": reminder_number,
        },
        "occurred_at": occurred_at,
    }
