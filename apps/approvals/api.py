from rest_framework import serializers, status
from rest_framework.response import Response

from apps.ledger.serializers import transaction_representation
from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import StrictCharField
from ledgerx.money import MoneyError, parse_amount, to_decimal_string

from . import selectors, services
from .models import ApprovalPolicy, ApprovalRequest, ApproverKind


class DecisionInput(serializers.Serializer):
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class PolicyInput(serializers.Serializer):
    name = StrictCharField(max_length=120)
    min_amount = StrictCharField(max_length=40)
    levels = serializers.ListField(child=serializers.ChoiceField(choices=ApproverKind.values), min_length=1)
    department = serializers.UUIDField(required=False, allow_null=True, default=None)
    category = StrictCharField(max_length=64, required=False, allow_blank=True, default="")


class ListFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ApprovalRequest.Status.values, required=False)


def _valid(serializer_class, data):
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def approval_representation(request: ApprovalRequest) -> dict:
    return {
        "id": str(request.id),
        "status": request.status,
        "transaction": transaction_representation(request.transaction),
        "levels": request.levels,
        "current_level": request.current_level,
        "waiting_for": request.waiting_for,
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
    }


class ApprovalListApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    def get(self, request):
        filters = ListFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        approvals = selectors.approval_list(user=request.user, status=filters.validated_data.get("status"))
        return Response({"results": [approval_representation(a) for a in approvals]})


class ApprovalDecideApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    approve = True

    def post(self, request, approval_id):
        approval = self.get_scoped(ApprovalRequest.objects, approval_id)
        data = _valid(DecisionInput, request.data)
        decided = services.approval_decide(
            actor=request.user, request_id=approval.id, approve=self.approve, note=data["note"]
        )
        decided = ApprovalRequest.objects.select_related("transaction__department", "transaction__employee").get(
            id=decided.id
        )
        return Response(approval_representation(decided))


class ApprovalPolicyListCreateApi(TenantAPIView):
    allowed_roles = {"GET": FINANCE_ROLES, "POST": ADMIN_ROLES}

    def get(self, request):
        policies = ApprovalPolicy.objects.of(self.organization)
        return Response({"results": [policy_representation(p, self.organization.currency) for p in policies]})

    def post(self, request):
        data = _valid(PolicyInput, request.data)
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
        )
        return Response(policy_representation(policy, currency), status=status.HTTP_201_CREATED)


class ApprovalPolicyDetailApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    def delete(self, request, policy_id):
        services.approval_policy_delete(policy=self.get_scoped(ApprovalPolicy.objects, policy_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
