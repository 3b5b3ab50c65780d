from rest_framework import serializers

from apps.fraud.serializers import risk_representation
from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string

from .filters import ORDERINGS
from .models import Entry, EntrySeal, Transaction


class TransactionSubmitInput(serializers.Serializer):
    amount = AmountField()
    currency = CurrencyField()
    merchant = StrictCharField(max_length=200)
    category = StrictCharField(max_length=64)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    department = serializers.UUIDField(required=False, allow_null=True, default=None)


class TransactionReverseInput(serializers.Serializer):
    reason = StrictCharField(max_length=1000)


class TransactionListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=Transaction.Status.values, required=False)
    kind = serializers.ChoiceField(choices=Transaction.Kind.values, required=False)
    department = serializers.UUIDField(required=False)
    employee = serializers.UUIDField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    merchant = StrictCharField(max_length=200, required=False, help_text="The merchant, any letter case.")
    category = StrictCharField(max_length=64, required=False)
    min_amount = AmountField(required=False, help_text="At least this, in the organization's currency.")
    max_amount = AmountField(required=False, help_text="At most this, in the organization's currency.")
    ordering = serializers.ChoiceField(
        choices=ORDERINGS, required=False, help_text="Newest first (`-created_at`) unless given."
    )


def _reversed_by_id(transaction: Transaction) -> str | None:
    try:
        return str(transaction.reversed_by.id)
    except Transaction.DoesNotExist:
        return None


def transaction_representation(transaction: Transaction, *, as_accepted: bool = False) -> dict:
    """The api.md shape. `as_accepted` renders it exactly as the 202 answer showed it, for replays."""
    pending = as_accepted and transaction.kind == Transaction.Kind.SPEND
    return {
        "id": str(transaction.id),
        "kind": transaction.kind,
        "status": Transaction.Status.PENDING.value if pending else transaction.status,
        "amount": to_decimal_string(transaction.amount_minor, transaction.currency),
        "currency": transaction.currency,
        "merchant": transaction.merchant,
        "category": transaction.category,
        "description": transaction.description,
        "department": {"id": str(transaction.department_id), "name": transaction.department.name},
        "employee": {"id": str(transaction.employee_id), "email": transaction.employee.email},
        "created_at": transaction.created_at.isoformat(),
        "processed_at": None if pending or transaction.processed_at is None else transaction.processed_at.isoformat(),
        "rejection_reason": "" if pending else transaction.rejection_reason,
        "reversal_of": str(transaction.reversal_of_id) if transaction.reversal_of_id else None,
        "reversed_by": None if pending else _reversed_by_id(transaction),
        "reason": transaction.reason,
        # A spend just accepted has not been scored: its replay must answer exactly the same.
        "risk": {"flagged": False, "alerts": []} if pending else risk_representation(transaction),
    }


def _sealed_hash(entry: Entry) -> str | None:
    try:
        return entry.seal.hash
    except EntrySeal.DoesNotExist:
        return None


def entry_representation(entry: Entry) -> dict:
    return {
        "id": entry.id,
        "transaction": str(entry.transaction_id),
        "account": {"id": str(entry.account_id), "name": entry.account.name, "kind": entry.account.kind},
        "amount": to_decimal_string(entry.amount_minor, entry.currency),
        "currency": entry.currency,
        "created_at": entry.created_at.isoformat(),
        "hash": _sealed_hash(entry),
    }


# The shapes of the representations above, for the OpenAPI schema.


class _DepartmentRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _EmployeeRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class _Risk(serializers.Serializer):
    flagged = serializers.BooleanField()
    alerts = serializers.ListField(child=serializers.DictField())


class TransactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    status = serializers.ChoiceField(choices=Transaction.Status.choices)
    amount = serializers.CharField()
    currency = serializers.CharField()
    merchant = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    department = _DepartmentRef()
    employee = _EmployeeRef()
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    reversal_of = serializers.UUIDField(allow_null=True)
    reversed_by = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    risk = _Risk()


class _AccountRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()


class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    transaction = serializers.UUIDField()
    account = _AccountRef()
    amount = serializers.CharField(help_text="Signed decimal string.")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    hash = serializers.CharField(allow_null=True, help_text="The entry's link in the hash chain, once sealed.")


class EntryListFilters(QueryFilters):
    transaction = serializers.UUIDField(required=False)


class LedgerVerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    notices = serializers.ListField(child=serializers.CharField())
    checked = serializers.DictField(child=serializers.IntegerField())
