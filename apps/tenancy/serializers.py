from rest_framework import serializers

from ledgerx.fields import StrictCharField

from .models import Department, Role, User


class TokenInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=256, trim_whitespace=False)


class OrganizationInput(serializers.Serializer):
    name = StrictCharField(max_length=200)
    currency = StrictCharField(min_length=3, max_length=3)
    timezone = StrictCharField(max_length=64, required=False, default="UTC")


class UserInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=256, trim_whitespace=False)
    role = serializers.ChoiceField(choices=Role.values)
    department = serializers.UUIDField(required=False, allow_null=True, default=None)
    organization = serializers.UUIDField(required=False, allow_null=True, default=None)


class UserRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.values)


class DepartmentInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    parent = serializers.UUIDField(required=False, allow_null=True, default=None)
    monthly_limit = StrictCharField(max_length=40)
    currency = StrictCharField(min_length=3, max_length=3, required=False)


class DepartmentUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=120, required=False)
    parent = serializers.UUIDField(required=False, allow_null=True)


class BudgetLimitInput(serializers.Serializer):
    limit = StrictCharField(max_length=40)
    period = StrictCharField(max_length=7, required=False)


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
        "budget": budget,
    }
