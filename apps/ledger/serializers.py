from datetime import datetime

from rest_framework import serializers

from apps.tenancy.serializers import DepartmentRef
from ledgerx.fields import InstantField, PeriodField, QueryFilters
from ledgerx.money import to_decimal_string

from .balances import AccountTotals
from .models import Account, Entry, EntrySeal, GLAccount, GLMapping
from .trial_balance import TrialBalance


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


def _owner(account: Account) -> dict:
    department = account.department
    employee = account.employee
    return {
        "department": {"id": str(department.id), "name": department.name} if department else None,
        "employee": {"id": str(employee.id), "email": employee.email} if employee else None,
    }


def account_representation(account: Account, totals: AccountTotals, as_of: datetime) -> dict:
    return {
        "id": str(account.id),
        "kind": account.kind,
        "name": account.name,
        **_owner(account),
        "currency": account.currency,
        "balance": to_decimal_string(totals.balance_minor, account.currency),
        "balance_as_of": as_of.isoformat(),
    }


def balance_representation(account: Account, totals: AccountTotals, as_of: datetime) -> dict:
    money = account.currency
    return {
        "account": {"id": str(account.id), "name": account.name, "kind": account.kind},
        "as_of": as_of.isoformat(),
        "currency": money,
        "debits": to_decimal_string(totals.debits_minor, money),
        "credits": to_decimal_string(totals.credits_minor, money),
        "balance": to_decimal_string(totals.balance_minor, money),
    }


def trial_balance_representation(report: TrialBalance, currency: str) -> dict:
    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    return {
        "month": report.month.strftime("%Y-%m"),
        "starts_at": report.starts_at.isoformat(),
        "ends_at": report.ends_at.isoformat(),
        "currency": currency,
        "accounts": [
            {
                "account": {"id": str(line.account.id), "name": line.account.name, "kind": line.account.kind},
                **_owner(line.account),
                "gl_codes": line.gl_codes,
                "opening": money(line.opening_minor),
                "debits": money(line.debits_minor),
                "credits": money(line.credits_minor),
                "closing": money(line.closing_minor),
            }
            for line in report.lines
        ],
        "totals": {
            "debits": money(report.debits_minor),
            "credits": money(report.credits_minor),
            "balanced": report.debits_minor == report.credits_minor,
        },
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


class _PayeeRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class AccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Account.Kind.choices)
    name = serializers.CharField()
    department = DepartmentRef(allow_null=True, help_text="The department of an expense account.")
    employee = _PayeeRef(allow_null=True, help_text="The payee of an employee payable.")
    currency = serializers.CharField()
    balance = serializers.CharField(help_text="Signed decimal string: debits less credits.")
    balance_as_of = serializers.DateTimeField()


class BalanceOutput(serializers.Serializer):
    account = _AccountRef()
    as_of = serializers.DateTimeField()
    currency = serializers.CharField()
    debits = serializers.CharField(help_text="The sum of the positive entries up to `as_of`.")
    credits = serializers.CharField(help_text="The sum of the negative entries up to `as_of`, as a positive amount.")
    balance = serializers.CharField(help_text="Signed decimal string: debits less credits.")


class BalanceFilters(QueryFilters):
    as_of = InstantField(required=False, help_text="An instant up to now, with its offset (default: now).")


class _TrialBalanceLine(serializers.Serializer):
    account = _AccountRef()
    department = DepartmentRef(allow_null=True)
    employee = _PayeeRef(allow_null=True)
    gl_codes = serializers.ListField(child=serializers.CharField(), help_text="Those its entries of the month carry.")
    opening = serializers.CharField()
    debits = serializers.CharField()
    credits = serializers.CharField()
    closing = serializers.CharField()


class _TrialBalanceTotals(serializers.Serializer):
    debits = serializers.CharField()
    credits = serializers.CharField()
    balanced = serializers.BooleanField()


class TrialBalanceOutput(serializers.Serializer):
    month = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    currency = serializers.CharField()
    accounts = _TrialBalanceLine(many=True)
    totals = _TrialBalanceTotals()


class TrialBalanceFilters(QueryFilters):
    month = PeriodField(help_text="YYYY-MM, in the organization's timezone.")


class LedgerVerifyOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    notices = serializers.ListField(child=serializers.CharField())
    checked = serializers.DictField(child=serializers.IntegerField())


class GLAccountListFilters(QueryFilters):
    type = serializers.ChoiceField(choices=GLAccount.Type.values, required=False)
    active = serializers.BooleanField(required=False, allow_null=True)


class GLMappingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=GLMapping.Kind.values)
    merchant = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    department = DepartmentRef(allow_null=True)
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
