from rest_framework import serializers

from ledgerx.fields import AmountField, CurrencyField, PeriodField, QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string

from .models import Department, Role, User


class TokenInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=256, trim_whitespace=False)


class PasswordChangeInput(serializers.Serializer):
    current_password = StrictCharField(max_length=256, trim_whitespace=False)
    new_password = StrictCharField(max_length=256, trim_whitespace=False)


class OrganizationInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    currency = CurrencyField()
    timezone = StrictCharField(max_length=64, required=False, default="UTC", trim_whitespace=False)


class UserInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=256, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.choices)
    department = serializers.UUIDField(required=False, allow_null=True, default=None)
    organization = serializers.UUIDField(required=False, allow_null=True, default=None)


class UserRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


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


def user_representation(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role,
        "organization": str(user.organization_id) if user.organization_id else None,
        "department": str(user.department_id) if user.department_id else None,
    }


def organization_representation(organization) -> dict:
    return {
        "id": str(organization.id),
        "name": organization.name,
        "slug": organization.slug,
        "currency": organization.currency,
        "timezone": organization.timezone,
    }


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


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    organization = serializers.UUIDField(allow_null=True)
    department = serializers.UUIDField(allow_null=True)


class UserListOutput(serializers.Serializer):
    results = UserOutput(many=True)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    user = UserOutput()


class OrganizationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    currency = serializers.CharField()
    timezone = serializers.CharField()


class OrganizationListOutput(serializers.Serializer):
    results = OrganizationOutput(many=True)


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
