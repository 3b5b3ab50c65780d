"""Spend made through the real services: submit, then settle as the worker would (needs real commits)."""

import uuid

from django.utils import timezone

from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from ledgerx.months import month_start


def spend_submit(
    user, amount: str, *, department_id=None, merchant: str = "Dell", category: str = "equipment", key=None
) -> Transaction:
    """A spend accepted through the real service, pending; `key` is its Idempotency-Key (a new one by default)."""
    spend, _ = spending_services.transaction_submit(
        user=user,
        idempotency_key=key or f"spend-{uuid.uuid4()}",
        amount=amount,
        currency=user.organization.currency,
        merchant=merchant,
        category=category,
        department_id=department_id,
    )
    return spend


def spend_settled(
    user, amount: str, *, department_id=None, merchant: str = "Dell", category: str = "equipment"
) -> Transaction:
    """Submit and settle one spend (posted or rejected), with any spends pending before it; the caller's
    test must use transaction=True, since settlement takes an advisory lock outside any transaction."""
    spend = spend_submit(user, amount, department_id=department_id, merchant=merchant, category=category)
    spending_services.settlement_run(organization_id=user.organization_id)
    spend.refresh_from_db()
    return spend


def spend_reverse(actor, spend: Transaction, reason: str = "Duplicate charge") -> Transaction:
    reversal, _ = spending_services.transaction_reverse(
        actor=actor, original_id=spend.id, reason=reason, idempotency_key=f"reverse-{uuid.uuid4()}"
    )
    return reversal


def settle_all(organization) -> None:
    """Settle every pending spend of the organization, batch after batch, as a worker would."""
    while spending_services.settlement_run(organization_id=organization.id).settled:
        pass


def refreshed(transaction: Transaction) -> Transaction:
    return Transaction.objects.get(id=transaction.id)


def period_now(department) -> BudgetPeriod:
    """The department's budget period for this month (next month's is open too)."""
    month = month_start(timezone.now(), department.organization.timezone)
    return BudgetPeriod.objects.get(department=department, month=month)
