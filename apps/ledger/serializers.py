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
