from rest_framework import serializers

from apps.ledger.models import Transaction
from apps.tenancy.models import User
from ledgerx.fields import QueryFilters

from . import selectors
from .models import FraudAlert, Rule


class AlertListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=FraudAlert.Status.values, required=False)
    rule = serializers.ChoiceField(choices=Rule.values, required=False)
    transaction = serializers.UUIDField(required=False)


def alert_representation(alert: FraudAlert) -> dict:
    return {
        "id": str(alert.id),
        "transaction": str(alert.transaction_id),
        "rule": alert.rule,
        "score": alert.score,
        "detail": alert.detail,
        "status": alert.status,
        "created_at": alert.created_at.isoformat(),
        "resolution": alert.resolution or None,
        "note": alert.note,
        "resolved_by": None
        if alert.resolved_by_id is None
        else {"id": str(alert.resolved_by_id), "email": alert.resolved_by.email},
        "resolved_at": None if alert.resolved_at is None else alert.resolved_at.isoformat(),
    }


def risk_representation(transaction: Transaction, *, viewer: User) -> dict:
    """`risk` of a transaction as `viewer` may see it: whether it is under review (an alert open); for
    finance also flagged (an alert open or confirmed as fraud) and the alerts with their rules, scores and
    details (fraud_detail_visible).
    """
    alerts = selectors.transaction_alerts(transaction=transaction)
    under_review = any(alert.status == FraudAlert.Status.OPEN for alert in alerts)
    if not selectors.fraud_detail_visible(user=viewer):
        return {"under_review": under_review}
    flagged = under_review or any(alert.resolution == FraudAlert.Resolution.FRAUD for alert in alerts)
    return {
        "under_review": under_review,
        "flagged": flagged,
        "alerts": [
            {
                "id": str(alert.id),
                "rule": alert.rule,
                "score": alert.score,
                "detail": alert.detail,
                "status": alert.status,
                "resolution": alert.resolution or None,
                "created_at": alert.created_at.isoformat(),
            }
            for alert in alerts
        ],
    }


def risk_representation_unscored(*, viewer: User) -> dict:
    """`risk` of a spend not scored yet, in the shape `viewer` sees."""
    if not selectors.fraud_detail_visible(user=viewer):
        return {"under_review": False}
    return {"under_review": False, "flagged": False, "alerts": []}


# The shape of alert_representation, for the OpenAPI schema.


class _ResolverRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class FraudAlertOutput(serializers.Serializer):
    id = serializers.UUIDField()
    transaction = serializers.UUIDField()
    rule = serializers.ChoiceField(choices=Rule.choices)
    score = serializers.FloatField()
    detail = serializers.CharField()
    status = serializers.ChoiceField(choices=FraudAlert.Status.choices)
    created_at = serializers.DateTimeField()
    resolution = serializers.ChoiceField(choices=FraudAlert.Resolution.choices, allow_null=True)
    note = serializers.CharField(allow_blank=True)
    resolved_by = _ResolverRef(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
