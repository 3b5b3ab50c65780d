from rest_framework import serializers

from ledgerx.fields import CurrencyField, StrictCharField

from .models import Role, User


class TokenInput(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=256, trim_whitespace=False)
    # Required of a user with a second factor: a code of their authenticator app, or a recovery code.
    otp_code = StrictCharField(max_length=32, required=False)


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


class UserUnfreezeInput(serializers.Serializer):
    reason = StrictCharField(max_length=1000)


def user_representation(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role,
        "organization": str(user.organization_id) if user.organization_id else None,
        "department": str(user.department_id) if user.department_id else None,
        "frozen": None if user.frozen_at is None else {"at": user.frozen_at.isoformat(), "reason": user.frozen_reason},
    }


def organization_representation(organization) -> dict:
    return {
        "id": str(organization.id),
        "name": organization.name,
        "slug": organization.slug,
        "currency": organization.currency,
        "timezone": organization.timezone,
    }


# The shapes of the representations above, for the OpenAPI schema.


class _Freeze(serializers.Serializer):
    at = serializers.DateTimeField()
    reason = serializers.CharField()


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    organization = serializers.UUIDField(allow_null=True)
    department = serializers.UUIDField(allow_null=True)
    frozen = _Freeze(allow_null=True, help_text="Set while the user's spending is frozen (a fraud verdict).")


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


class DepartmentRef(serializers.Serializer):
    """A department named in another resource's answer: the one schema component every app uses."""

    id = serializers.UUIDField()
    name = serializers.CharField()
