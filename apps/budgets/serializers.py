from rest_framework import serializers

from apps.tenancy.models import Department
from ledgerx.fields import AmountField, CurrencyField, PeriodField, QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string
from ledgerx.months import month_text

from .models import BudgetPeriod


def budget_representation(period: BudgetPeriod, currency: str) -> dict:
    return {
        "period": month_text(period.month),
        "limit": to_decimal_string(period.limit_minor, currency),
        "spent": to_decimal_string(period.spent_minor, currency),
        "held": to_decimal_string(period.held_minor, currency),
        "available": to_decimal_string(period.available_minor, currency),
        "currency": currency,
    }


class DepartmentInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)
    monthly_limit = AmountField()
    currency = CurrencyField(required=False)


class DepartmentUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    parent = serializers.UUIDField(required=False, allow_null=True)
    monthly_limit = AmountField(required=False, help_text="The limit each new month opens with.")


class BudgetLimitInput(serializers.Serializer):
    limit = AmountField()
    period = PeriodField(required=False)


class BudgetPeriodFilters(QueryFilters):
    period = PeriodField(required=False)


def department_representation(department: Department, budget: dict) -> dict:
    return {
        "id": str(department.id),
        "name": department.name,
        "parent": str(department.parent_id) if department.parent_id else None,
        "head": str(department.head_id) if department.head_id else None,
        "monthly_limit": to_decimal_string(department.monthly_limit_minor, budget["currency"]),
        "budget": budget,
    }


# The shapes of the representations above, for the OpenAPI schema.


class BudgetOutput(serializers.Serializer):
    period = serializers.RegexField(r"^\d{4}-\d{2}$")
    limit = serializers.CharField()
    spent = serializers.CharField()
    available = serializers.CharField()
    currency = serializers.CharField()


class BudgetSetOutput(BudgetOutput):
    notice = serializers.CharField(help_text="Empty, or why the new limit blocks further spend.")


class DepartmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    parent = serializers.UUIDField(allow_null=True)
    head = serializers.UUIDField(allow_null=True)
    monthly_limit = serializers.CharField(help_text="The standing limit each new month opens with.")
    budget = BudgetOutput()
