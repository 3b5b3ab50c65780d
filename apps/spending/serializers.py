"""The HTTP shapes of spends and their approvals."""

from rest_framework import serializers

from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApproverKind
from apps.fraud.serializers import risk_representation
from apps.ledger.models import Transaction
from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string

from .filters import ORDERINGS


class TransactionSubmitInput(serializers.Serializer):
    amount = AmountField()
    currency = CurrencyField()
    merchant = StrictCharField(max_length=200)
    category = StrictCharField(max_length=64)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    department = serializers.UUIDField(required=False, allow_null=True, default=None)


class TransactionReverseInput(serializers.Serializer):
    reason = StrictCharField(max_length=1000)


class TransactionListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=Transaction.Status.values, required=False)
    kind = serializers.ChoiceField(choices=Transaction.Kind.values, required=False)
    department = serializers.UUIDField(required=False)
    employee = serializers.UUIDField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    merchant = StrictCharField(max_length=200, required=False, help_text="The merchant, any letter case.")
    category = StrictCharField(max_length=64, required=False)
    min_amount = AmountField(required=False, help_text="At least this, in the organization's currency.")
    max_amount = AmountField(required=False, help_text="At most this, in the organization's currency.")
    ordering = serializers.ChoiceField(
        choices=ORDERINGS, required=False, help_text="Newest first (`-created_at`) unless given."
    )


def _reversed_by_id(transaction: Transaction) -> str | None:
    try:
        return str(transaction.reversed_by.id)
    except Transaction.DoesNotExist:
        return None


def transaction_representation(transaction: Transaction, *, as_accepted: bool = False) -> dict:
    """The api.md shape. `as_accepted` renders it exactly as the 202 answer showed it, for replays."""
    pending = as_accepted and transaction.kind == Transaction.Kind.SPEND
    return {
        "id": str(transaction.id),
        "kind": transaction.kind,
        "status": Transaction.Status.PENDING.value if pending else transaction.status,
        "amount": to_decimal_string(transaction.amount_minor, transaction.currency),
        "currency": transaction.currency,
        "merchant": transaction.merchant,
        "category": transaction.category,
        "description": transaction.description,
        "department": {"id": str(transaction.department_id), "name": transaction.department.name},
        "employee": {"id": str(transaction.employee_id), "email": transaction.employee.email},
        "created_at": transaction.created_at.isoformat(),
        "processed_at": None if pending or transaction.processed_at is None else transaction.processed_at.isoformat(),
        "rejection_reason": "" if pending else transaction.rejection_reason,
        "policy_version": None if pending else transaction.policy_version,
        "reversal_of": str(transaction.reversal_of_id) if transaction.reversal_of_id else None,
        "reversed_by": None if pending else _reversed_by_id(transaction),
        "reason": transaction.reason,
        # A spend just accepted has not been scored: its replay must answer exactly the same.
        "risk": {"flagged": False, "alerts": []} if pending else risk_representation(transaction),
    }


class DecisionInput(serializers.Serializer):
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


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


# The shapes of the representations above, for the OpenAPI schema.


class _DepartmentRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class _EmployeeRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class _Risk(serializers.Serializer):
    flagged = serializers.BooleanField()
    alerts = serializers.ListField(child=serializers.DictField())


class TransactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    status = serializers.ChoiceField(choices=Transaction.Status.choices)
    amount = serializers.CharField()
    currency = serializers.CharField()
    merchant = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    department = _DepartmentRef()
    employee = _EmployeeRef()
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    policy_version = serializers.IntegerField(
        allow_null=True, help_text="The spend policy version the spend was settled on; null until then."
    )
    reversal_of = serializers.UUIDField(allow_null=True)
    reversed_by = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    risk = _Risk()


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
