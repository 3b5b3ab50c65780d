from rest_framework import serializers

from ledgerx.fields import QueryFilters
from ledgerx.money import to_decimal_string

from .models import Entry, EntrySeal


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


def month_representation(state) -> dict:
    """One month of closing.month_list: its state is its latest act (open when it has none)."""
    latest = state.latest
    closed = state.closed
    return {
        "month": f"{state.month.year:04d}-{state.month.month:02d}",
        "state": "closed" if closed else "open",
        "entries": state.entry_count,
        "closed_at": latest.acted_at.isoformat() if closed else None,
        "closed_by": latest.acted_by.email if closed else None,
        "reopened_at": latest.acted_at.isoformat() if latest is not None and not closed else None,
        "reopened_by": latest.acted_by.email if latest is not None and not closed else None,
        "reopen_reason": latest.reason if latest is not None and not closed else None,
    }


class MonthOutput(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, in the organization's timezone.")
    state = serializers.ChoiceField(choices=["open", "closed"])
    entries = serializers.IntegerField(help_text="Entries dated into the month.")
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.EmailField(allow_null=True)
    reopened_at = serializers.DateTimeField(allow_null=True, help_text="Set while its latest act is a reopening.")
    reopened_by = serializers.EmailField(allow_null=True)
    reopen_reason = serializers.CharField(allow_null=True)


class MonthListOutput(serializers.Serializer):
    results = MonthOutput(many=True)


class MonthCloseInput(serializers.Serializer):
    """A close takes no fields."""


class MonthReopenInput(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the month is reopened; kept in its history.")
