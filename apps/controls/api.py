"""/api/v1/spend-policies: the policy in force and its rules. Finance managers and org admins read
and change them; every change writes the next policy version."""

import re
import uuid

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.fields import empty
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.models import Organization
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import AmountField, StrictCharField
from ledgerx.money import MoneyError, parse_amount, to_decimal_string
from ledgerx.schema import error_responses

from . import selectors, services
from .models import WEEKDAYS, LimitPeriod, RuleKind, SpendRule
from .policy import minute_text

_MINUTE_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")


@extend_schema_field({"type": "string", "pattern": r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", "nullable": True})
class MinuteOfDayField(StrictCharField):
    """A time of day, "HH:MM", in the organization's timezone, 00:00 to 24:00 (the end of the day), as minutes."""

    default_error_messages = {"not_a_time": "A time of day as HH:MM, from 00:00 to 24:00."}

    def __init__(self, **kwargs) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data) -> int:
        text = super().to_internal_value(data)
        if not _MINUTE_OF_DAY.fullmatch(text):
            self.fail("not_a_time")
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)


class RuleInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    is_active = serializers.BooleanField(required=False, default=True)
    category = StrictCharField(max_length=64, required=False, default="", help_text="blocked_category, category_limit.")
    merchant = StrictCharField(
        max_length=200,
        required=False,
        default="",
        help_text="blocked_merchant: a name, or a pattern where `*` is any characters and `?` one; any letter case.",
    )
    amount = AmountField(
        required=False,
        allow_null=True,
        default=None,
        help_text="employee_limit, category_limit (a month), description_required_above, receipt_required_above.",
    )
    period = serializers.ChoiceField(
        choices=LimitPeriod.choices, required=False, default="", help_text="employee_limit."
    )
    department = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="category_limit: counted over its subtree."
    )
    role = serializers.ChoiceField(
        choices=services.LIMITED_ROLES,
        required=False,
        allow_blank=True,
        default="",
        help_text="employee_limit: only this role; empty for every role.",
    )
    employee = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="employee_limit: only this employee."
    )
    start = MinuteOfDayField(required=False, allow_null=True, default=None, help_text="allowed_hours, from.")
    end = MinuteOfDayField(required=False, allow_null=True, default=None, help_text="allowed_hours, until (excl.).")
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=WEEKDAYS), required=False, default=list, help_text="allowed_hours."
    )


class RuleChangeInput(RuleInput):
    """What PATCH takes: any of RuleInput's fields, none required and none defaulted (a rule keeps its kind)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = empty


# The API's field names, as the service's RuleFields names them.
_FIELD_NAMES = {
    "department": "department_id",
    "employee": "employee_id",
    "start": "from_minute",
    "end": "until_minute",
    "amount": "amount_minor",
}


def _rule_fields(data: dict, currency: str) -> dict:
    """Validated input as RuleFields keyword arguments, the amount in minor units."""
    fields = {_FIELD_NAMES.get(name, name): value for name, value in data.items()}
    if fields.get("amount_minor") is not None:
        try:
            fields["amount_minor"] = parse_amount(fields["amount_minor"], currency)
        except MoneyError as error:
            raise InvalidInput(str(error), fields={"amount": [str(error)]}) from None
    return fields


def rule_representation(rule: SpendRule, organization: Organization) -> dict:
    currency = organization.currency
    return {
        "id": str(rule.id),
        "name": rule.name,
        "kind": rule.kind,
        "is_active": rule.is_active,
        "text": selectors.rule_text(rule, organization),
        "category": rule.category or None,
        "merchant": rule.merchant or None,
        "amount": to_decimal_string(rule.amount_minor, currency) if rule.amount_minor is not None else None,
        "currency": currency,
        "period": rule.period or None,
        "department": str(rule.department_id) if rule.department_id else None,
        "role": rule.role or None,
        "employee": str(rule.employee_id) if rule.employee_id else None,
        "start": minute_text(rule.from_minute) if rule.from_minute is not None else None,
        "end": minute_text(rule.until_minute) if rule.until_minute is not None else None,
        "weekdays": rule.weekdays or None,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


# The shapes of the representations above, for the OpenAPI schema.


class RuleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    is_active = serializers.BooleanField()
    text = serializers.CharField(help_text="The rule in words.")
    category = serializers.CharField(allow_null=True)
    merchant = serializers.CharField(allow_null=True)
    amount = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    period = serializers.ChoiceField(choices=LimitPeriod.choices, allow_null=True)
    department = serializers.UUIDField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    employee = serializers.UUIDField(allow_null=True)
    start = serializers.CharField(allow_null=True)
    end = serializers.CharField(allow_null=True)
    weekdays = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAYS), allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RuleChangeOutput(RuleOutput):
    policy_version = serializers.IntegerField(help_text="The policy version this change made.")


class PolicyOutput(serializers.Serializer):
    version = serializers.IntegerField(help_text="0 until the first rule is added.")
    changed_at = serializers.DateTimeField(allow_null=True)
    changed_by = serializers.EmailField(allow_null=True)
    rules = RuleOutput(many=True)


class SpendPolicyApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="spend_policy_retrieve",
        responses={200: PolicyOutput, **error_responses()},
        description="The version in force and every rule, active or not.",
    )
    def get(self, request):
        version = selectors.policy_version_current(organization_id=self.organization.id)
        rules = selectors.spend_rules_of(organization=self.organization)
        return Response(
            {
                "version": version.number if version else 0,
                "changed_at": version.created_at.isoformat() if version else None,
                "changed_by": version.changed_by.email if version and version.changed_by else None,
                "rules": [rule_representation(rule, self.organization) for rule in rules],
            }
        )


class SpendRuleCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="spend_rules_create",
        request=RuleInput,
        responses={201: RuleChangeOutput, **error_responses(400, 404)},
        description="Adds a rule; spends settled from the new version on are decided with it. A field the "
        "kind does not use is 400; another organization's department or employee is 404.",
    )
    def post(self, request):
        data = validated(RuleInput, request.data)
        rule, version = services.spend_rule_create(
            actor=request.user,
            organization=self.organization,
            fields=services.RuleFields(**_rule_fields(data, self.organization.currency)),
        )
        return Response(
            {**rule_representation(rule, self.organization), "policy_version": version.number},
            status=status.HTTP_201_CREATED,
        )


class SpendRuleDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    def _rule(self, rule_id: uuid.UUID) -> SpendRule:
        return self.get_scoped(selectors.spend_rules_of(organization=self.organization), rule_id)

    @extend_schema(operation_id="spend_rules_retrieve", responses={200: RuleOutput, **error_responses(404)})
    def get(self, request, rule_id):
        return Response(rule_representation(self._rule(rule_id), self.organization))

    @extend_schema(
        operation_id="spend_rules_update",
        request=RuleChangeInput,
        responses={200: RuleChangeOutput, **error_responses(400, 404)},
        description="Changes the fields given; a rule keeps its kind.",
    )
    def patch(self, request, rule_id):
        rule = self._rule(rule_id)
        data = validated(RuleChangeInput, request.data)
        if not data:
            raise InvalidInput("Name at least one field to change.")
        rule, version = services.spend_rule_update(
            actor=request.user,
            rule_id=rule.id,
            organization=self.organization,
            changes=_rule_fields(data, self.organization.currency),
        )
        return Response({**rule_representation(rule, self.organization), "policy_version": version.number})

    @extend_schema(
        operation_id="spend_rules_delete",
        responses={204: None, **error_responses(404)},
        description="Versions that held the rule keep it, so spends decided on them still read right.",
    )
    def delete(self, request, rule_id):
        services.spend_rule_delete(actor=request.user, rule_id=self._rule(rule_id).id, organization=self.organization)
        return Response(status=status.HTTP_204_NO_CONTENT)
