from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.ledger.serializers import TransactionOutput, transaction_representation
from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import AmountField, QueryFilters, StrictCharField
from ledgerx.money import MoneyError, parse_amount, to_decimal_string
from ledgerx.schema import error_responses

from . import selectors, services
from .models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApproverKind, SpenderStep


class DecisionInput(serializers.Serializer):
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


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


class ApprovalListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=ApprovalRequest.Status.values, required=False)


def approval_representation(request: ApprovalRequest) -> dict:
    return {
        "id": str(request.id),
        "status": request.status,
        "transaction": transaction_representation(request.transaction),
        "levels": request.levels,
        "current_level": request.current_level,
        "waiting_for": request.waiting_for,
        "routing": request.routing,
        "decisions": [
            {
                "level": decision.level,
                "approver": decision.approver.email,
                "outcome": decision.outcome,
                "note": decision.note,
                "created_at": decision.created_at.isoformat(),
            }
            for decision in request.decisions.all()
        ],
        "created_at": request.created_at.isoformat(),
        "expires_at": request.expires_at.isoformat(),
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
    }


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


class _DecisionOutput(serializers.Serializer):
    level = serializers.IntegerField(min_value=0)
    approver = serializers.EmailField()
    outcome = serializers.ChoiceField(choices=ApprovalDecision.Outcome.choices)
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class _RoutingOutput(serializers.Serializer):
    level = serializers.IntegerField(min_value=0)
    action = serializers.ChoiceField(choices=["skipped", "escalated"])
    note = serializers.CharField()


class ApprovalOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ApprovalRequest.Status.choices)
    transaction = TransactionOutput()
    levels = serializers.ListField(child=serializers.ChoiceField(choices=ApproverKind.choices))
    current_level = serializers.IntegerField(min_value=0, help_text="Index into `levels` of the step waiting.")
    waiting_for = serializers.ChoiceField(
        choices=ApproverKind.choices, allow_null=True, help_text="The approver kind the current step waits for."
    )
    routing = _RoutingOutput(
        many=True, help_text="Steps skipped or escalated because nobody but the spender could sign them."
    )
    decisions = _DecisionOutput(many=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ApprovalListOutput(serializers.Serializer):
    results = ApprovalOutput(many=True)


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


class ApprovalListApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    filters_class = ApprovalListFilters

    @extend_schema(
        operation_id="approvals_list",
        parameters=[ApprovalListFilters],
        responses={200: ApprovalListOutput, **error_responses(400)},
        description="Pending: what waits for you now. Decided: all of them for finance, else what you signed.",
    )
    def get(self, request):
        approvals = selectors.approval_list(user=request.user, status=self.filters.get("status"))
        return Response({"results": [approval_representation(a) for a in approvals]})


class ApprovalDecideApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    approve: bool

    def post(self, request, approval_id):
        approval = self.get_scoped(ApprovalRequest.objects, approval_id)
        data = validated(DecisionInput, request.data)
        decided = services.approval_decide(
            actor=request.user, request_id=approval.id, approve=self.approve, note=data["note"]
        )
        decided = ApprovalRequest.objects.select_related("transaction__department", "transaction__employee").get(
            id=decided.id
        )
        return Response(approval_representation(decided))


@extend_schema_view(
    post=extend_schema(
        operation_id="approvals_approve",
        request=DecisionInput,
        responses={200: ApprovalOutput, **error_responses(400, 404, 409)},
        description="Sign the step waiting for you; the last signature posts the spend. Your own spend, "
        "a second step of one spend or a step waiting for someone else: 403. Already decided, expired (the "
        "spend is then rejected and its hold released), or a spend that no longer fits its budget because a "
        "limit was lowered (`budget_exceeded`; the request stays open): 409.",
    )
)
class ApprovalApproveApi(ApprovalDecideApi):
    approve = True


@extend_schema_view(
    post=extend_schema(
        operation_id="approvals_reject",
        request=DecisionInput,
        responses={200: ApprovalOutput, **error_responses(400, 404, 409)},
        description="Reject the spend at the step waiting for you, saying why in `note` (400 without). "
        "Your own spend or a step waiting for someone else: 403. Already decided: 409.",
    )
)
class ApprovalRejectApi(ApprovalDecideApi):
    approve = False


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
        services.approval_policy_delete(policy=self.get_scoped(ApprovalPolicy.objects, policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
