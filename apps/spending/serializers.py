"""The HTTP shapes of spends, their approvals, and the review of their fraud alerts."""

from rest_framework import serializers

from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApproverKind
from apps.fraud.models import FraudAlert
from apps.fraud.serializers import (
    FraudAlertOutput,
    alert_representation,
    risk_representation,
    risk_representation_unscored,
)
from apps.ledger.models import Transaction
from apps.tenancy.api_base import validated
from apps.tenancy.models import User
from apps.tenancy.serializers import DepartmentRef
from ledgerx.errors import InvalidInput
from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField
from ledgerx.money import fx_representation, to_decimal_string
from ledgerx.schema import ErrorDetailOutput

from .acceptance import SpendInput
from .bulk_intake import BULK_ITEMS_MAX, BulkItem
from .filters import ORDERINGS
from .fraud_review import FraudReview


class TransactionSubmitInput(serializers.Serializer):
    amount = AmountField(help_text="In `currency`.")
    currency = CurrencyField(
        help_text="Any ISO 4217 currency; one other than the organization's is converted at the rate of the day."
    )
    merchant = StrictCharField(max_length=200)
    category = StrictCharField(max_length=64)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    department = serializers.UUIDField(required=False, allow_null=True, default=None)


class TransactionReverseInput(serializers.Serializer):
    reason = StrictCharField(max_length=1000)


class FraudAlertResolveInput(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=FraudAlert.Resolution.choices)
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    reverse_spend = serializers.BooleanField(
        required=False, default=False, help_text="With `fraud`: reverse the spend (a posted one; 409 otherwise)."
    )
    freeze_employee = serializers.BooleanField(
        required=False,
        default=False,
        help_text="With `fraud`: freeze the spender; no spend of theirs is accepted until an org admin unfreezes them.",
    )


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


def transaction_representation(transaction: Transaction, *, viewer: User, as_accepted: bool = False) -> dict:
    """The api.md shape, as `viewer` may see it (its fraud detail is finance's). `as_accepted` renders it
    exactly as the 202 answer showed it, for replays."""
    pending = as_accepted and transaction.kind != Transaction.Kind.REVERSAL
    return {
        "id": str(transaction.id),
        "kind": transaction.kind,
        "status": Transaction.Status.PENDING.value if pending else transaction.status,
        "amount": to_decimal_string(transaction.amount_minor, transaction.currency),
        "currency": transaction.currency,
        **fx_representation(
            original_amount_minor=transaction.original_amount_minor,
            original_currency=transaction.original_currency,
            fx_rate=transaction.fx_rate,
            fx_rate_date=transaction.fx_rate_date,
        ),
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
        "risk": risk_representation_unscored(viewer=viewer)
        if pending
        else risk_representation(transaction, viewer=viewer),
    }


class DecisionInput(serializers.Serializer):
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class ApprovalListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=ApprovalRequest.Status.values, required=False)


def approval_representation(request: ApprovalRequest, *, viewer: User) -> dict:
    return {
        "id": str(request.id),
        "status": request.status,
        "transaction": transaction_representation(request.transaction, viewer=viewer),
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


class _EmployeeRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class _Risk(serializers.Serializer):
    under_review = serializers.BooleanField(help_text="A fraud alert on the spend is open.")
    flagged = serializers.BooleanField(required=False, help_text="Finance managers and org admins only.")
    alerts = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Finance managers and org admins only."
    )


class TransactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Transaction.Kind.choices)
    status = serializers.ChoiceField(choices=Transaction.Status.choices)
    amount = serializers.CharField(help_text="In the organization's base currency: what budgets and the ledger count.")
    currency = serializers.CharField(help_text="The organization's base currency.")
    original_amount = serializers.CharField(help_text="The amount as spent; `amount` when in the base currency.")
    original_currency = serializers.CharField()
    fx_rate = serializers.CharField(
        help_text="Base units per unit of `original_currency` the spend was converted at (rounded half-even "
        'once); "1" in the base currency.'
    )
    fx_rate_date = serializers.DateField(allow_null=True, help_text="The day of that rate; null in the base currency.")
    merchant = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    department = DepartmentRef()
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


def fraud_review_representation(review: FraudReview) -> dict:
    """A resolved alert, with what the review did to its spend and its spender."""
    return {
        **alert_representation(review.alert),
        "reversal": None if review.reversal is None else str(review.reversal.id),
        "employee_frozen": review.employee.frozen_at is not None,
    }


class FraudReviewOutput(FraudAlertOutput):
    reversal = serializers.UUIDField(allow_null=True, help_text="The spend's reversal, made now or before.")
    employee_frozen = serializers.BooleanField(help_text="Whether the spender's spending is frozen now.")


class TransactionBulkInput(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=BULK_ITEMS_MAX,
        help_text="1 to 1,000 spends, each an object as POST /api/v1/transactions takes it (TransactionSubmitInput). "
        "An item that is not one is answered, at its index, with the error the single POST would answer.",
    )


def bulk_item(sent: dict) -> BulkItem:
    """A batch's item, read as POST /transactions reads its body: the same serializer, the same refusals."""
    try:
        data = validated(TransactionSubmitInput, sent)
    except InvalidInput as refusal:
        return BulkItem(sent=sent, refusal=refusal)
    return BulkItem(
        sent=sent,
        spend=SpendInput(
            amount=data["amount"],
            currency=data["currency"],
            merchant=data["merchant"],
            category=data["category"],
            description=data["description"],
            department_id=data["department"],
        ),
    )


class TransactionBulkItemOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's place in `items`, from 0.")
    status = serializers.IntegerField(
        help_text="202 when accepted as pending; else the status POST /api/v1/transactions answers for that spend."
    )
    transaction = TransactionOutput(required=False, help_text="The accepted spend, as the single POST answers it.")
    error = ErrorDetailOutput(required=False, help_text="Why the item was refused, in the API's error shape.")


class TransactionBulkOutput(serializers.Serializer):
    accepted = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = TransactionBulkItemOutput(many=True, help_text="One per item, in the order of `items`.")
