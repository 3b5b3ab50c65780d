import itertools

from apps.ledger.models import Transaction
from apps.ledger.services import settlement_run, transaction_submit

_keys = itertools.count()


def submit(user, amount: str, *, department=None, merchant: str = "Dell", category: str = "equipment", key=None):
    transaction, _ = transaction_submit(
        user=user,
        idempotency_key=key or f"key-{next(_keys)}",
        amount=amount,
        currency=user.organization.currency,
        merchant=merchant,
        category=category,
        department_id=department.id if department else None,
    )
    return transaction


def settle_all(organization) -> None:
    while settlement_run(organization_id=organization.id).settled:
        pass


def refreshed(transaction) -> Transaction:
    return Transaction.objects.get(id=transaction.id)
