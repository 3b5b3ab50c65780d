from rest_framework import serializers

from apps.ledger.models import Transaction
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


def risk_representation(transaction: Transaction) -> dict:
    """`risk` of a transaction: flagged while an alert is open or was confirmed as fraud."""
    alerts = selectors.transaction_alerts(transaction=transaction)
    flagged = any(
        alert.status == FraudAlert.Status.OPEN or alert.resolution == FraudAlert.Resolution.FRAUD for alert in alerts
    )
    return {
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
