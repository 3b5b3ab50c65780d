from rest_framework import serializers

from ledgerx.fields import QueryFilters
from ledgerx.money import to_decimal_string

from .models import Entry, EntrySeal, GLAccount, GLMapping


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
        "gl_code": entry.gl_code,
        "cost_centre": entry.cost_centre,
    }


def _mapping_representation(mapping: GLMapping) -> dict:
    department = mapping.department
    return {
        "id": str(mapping.id),
        "kind": mapping.kind,
        "merchant": mapping.merchant or None,
        "category": mapping.category or None,
        "department": None if department is None else {"id": str(department.id), "name": department.name},
        "ledger_account_kind": mapping.ledger_account_kind or None,
        "cost_centre": mapping.cost_centre or None,
    }


def gl_account_representation(account: GLAccount) -> dict:
    return {
        "id": str(account.id),
        "code": account.code,
        "name": account.name,
        "type": account.type,
        "is_active": account.is_active,
        "mappings": [_mapping_representation(mapping) for mapping in account.mappings.all()],
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
    gl_code = serializers.CharField(help_text="The chart of accounts' GL code at posting; empty on older entries.")
    cost_centre = serializers.CharField(help_text="The department's cost centre at posting, on the expense line.")


class EntryListFilters(QueryFilters):
    transaction = serializers.UUIDField(required=False)


class LedgerVerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    notices = serializers.ListField(child=serializers.CharField())
    checked = serializers.DictField(child=serializers.IntegerField())


class GLAccountListFilters(QueryFilters):
    type = serializers.ChoiceField(choices=GLAccount.Type.values, required=False)
    active = serializers.BooleanField(required=False, allow_null=True)


class _DepartmentRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class GLMappingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=GLMapping.Kind.values)
    merchant = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    department = _DepartmentRef(allow_null=True)
    ledger_account_kind = serializers.CharField(allow_null=True)
    cost_centre = serializers.CharField(allow_null=True)


class GLAccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=GLAccount.Type.values)
    is_active = serializers.BooleanField()
    mappings = GLMappingOutput(many=True)


class GLAccountListOutput(serializers.Serializer):
    default_expense_account = serializers.CharField(
        allow_null=True, help_text="The code spends no rule maps post to; null before the chart exists."
    )
    results = GLAccountOutput(many=True)
