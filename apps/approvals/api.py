from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import AmountField, StrictCharField
from ledgerx.money import MoneyError, parse_amount, to_decimal_string
from ledgerx.schema import error_responses

from . import services
from .models import ApprovalPolicy, ApproverKind, SpenderStep


class PolicyInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    min_amount = AmountField()
    levels = serializers.ListField(child=serializers.ChoiceField(choices=ApproverKind.choices), min_length=1)
    department = serializers.UUIDField(required=False, allow_null=True, default=None)
    category = StrictCharField(max_length=64, required=False, allow_blank=True, default="")
    spender_step = serializers.ChoiceField(
        choices=SpenderStep.choices,
        required=False,
        default=SpenderStep.ESCALATE,
        help_text="A step nobody but the spender (or an earlier signer) could sign: `skip` to the next step "
        "(the last one escalates), or `escalate` to a finance manager, else an org admin.",
    )


def policy_representation(policy: ApprovalPolicy, currency: str) -> dict:
    return {
        "id": str(policy.id),
        "name": policy.name,
        "min_amount": to_decimal_string(policy.min_amount_minor, currency),
        "currency": currency,
        "levels": policy.levels,
        "department": str(policy.department_id) if policy.department_id else None,
        "category": policy.category,
        "spender_step": policy.spender_step,
    }


# The shapes of the representations above, for the OpenAPI schema.


class ApprovalPolicyOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    min_amount = serializers.CharField()
    currency = serializers.CharField()
    levels = serializers.ListField(child=serializers.ChoiceField(choices=ApproverKind.choices))
    department = serializers.UUIDField(allow_null=True)
    category = serializers.CharField(allow_blank=True)
    spender_step = serializers.ChoiceField(choices=SpenderStep.choices)


class ApprovalPolicyListOutput(serializers.Serializer):
    results = ApprovalPolicyOutput(many=True)


class ApprovalPolicyListCreateApi(TenantAPIView):
    allowed_roles = {"GET": FINANCE_ROLES, "POST": ADMIN_ROLES}

    @extend_schema(
        operation_id="approval_policies_list",
        responses={200: ApprovalPolicyListOutput, **error_responses()},
    )
    def get(self, request):
        policies = ApprovalPolicy.objects.of(self.organization)
        return Response({"results": [policy_representation(p, self.organization.currency) for p in policies]})

    @extend_schema(
        operation_id="approval_policies_create",
        request=PolicyInput,
        responses={201: ApprovalPolicyOutput, **error_responses(400, 404)},
        description="Spends of at least `min_amount` (of the department subtree and category, if given) "
        "wait for each of `levels` in order (org admin). Unknown department: 404.",
    )
    def post(self, request):
        data = validated(PolicyInput, request.data)
        currency = self.organization.currency
        try:
            min_amount_minor = parse_amount(data["min_amount"], currency)
        except MoneyError as error:
            raise InvalidInput(str(error), fields={"min_amount": [str(error)]}) from None
        policy = services.approval_policy_create(
            organization=self.organization,
            name=data["name"],
            min_amount_minor=min_amount_minor,
            levels=data["levels"],
            department_id=data["department"],
            category=data["category"],
            spender_step=data["spender_step"],
            actor=request.user,
        )
        return Response(policy_representation(policy, currency), status=status.HTTP_201_CREATED)


class ApprovalPolicyDetailApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="approval_policies_delete",
        responses={204: None, **error_responses(404)},
        description="Spends already waiting keep the levels they started with.",
    )
    def delete(self, request, policy_id):
        services.approval_policy_delete(policy=self.get_scoped(ApprovalPolicy.objects, policy_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
