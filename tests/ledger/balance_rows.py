"""Ledger rows written straight to the tables for the balance tests: journals of chosen dates, which
settlement (dating every entry by its own clock) cannot make."""

import uuid
from datetime import datetime

from apps.ledger.models import Account, Entry, Transaction


def journal_insert(tenant, legs: list[tuple[Account, int]], created_at: datetime, *, gl_code: str = "") -> list[Entry]:
    """One balanced journal (its legs sum to zero) dated `created_at`, on a transaction of its own."""
    assert sum(amount for _, amount in legs) == 0
    amount = sum(amount for _, amount in legs if amount > 0)
    spend = Transaction.objects.create(
        organization=tenant.organization,
        status=Transaction.Status.POSTED,
        amount_minor=amount,
        currency="USD",
        original_amount_minor=amount,
        original_currency="USD",
        fx_rate=1,
        merchant="Dell",
        category="equipment",
        department=tenant.department,
        employee=tenant.employee,
        created_by=tenant.employee,
        budget_month=created_at.date().replace(day=1),
        idempotency_key=f"balance-{uuid.uuid4()}",
        request_fingerprint="-",
        created_at=created_at,
    )
    return Entry.objects.bulk_create(
        [
            Entry(
                organization=tenant.organization,
                transaction=spend,
                account=account,
                amount_minor=leg,
                currency="USD",
                created_at=created_at,
                gl_code=gl_code,
            )
            for account, leg in legs
        ]
    )
