from rest_framework import serializers

from ledgerx.fields import QueryFilters, StrictCharField

from .models import Delivery, EventType, WebhookEndpoint


class EndpointCreateInput(serializers.Serializer):
    url = StrictCharField(max_length=2000, trim_whitespace=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False)
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointUpdateInput(serializers.Serializer):
    url = StrictCharField(max_length=2000, required=False, trim_whitespace=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False, required=False
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    rotate_secret = serializers.BooleanField(required=False, default=False)


class DeliveryListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=Delivery.Status.values, required=False)


def endpoint_representation(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    """The secret is shown when it is made (creation, rotation) and never again over the API."""
    representation = {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "slow": endpoint.slow_since is not None,
        "slow_since": _isoformat(endpoint.slow_since),
        "latency_p95_ms": endpoint.latency_p95_ms,
        "created_at": endpoint.created_at.isoformat(),
        "updated_at": endpoint.updated_at.isoformat(),
    }
    if with_secret:
        representation["secret"] = endpoint.secret
    return representation


def _isoformat(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def delivery_representation(delivery: Delivery) -> dict:
    return {
        "id": str(delivery.id),
        "endpoint": str(delivery.endpoint_id),
        "event": {
            "id": str(delivery.event_id),
            "type": delivery.event.type,
            "created_at": delivery.event.created_at.isoformat(),
        },
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_response_code": delivery.last_response_code,
        "last_error": delivery.last_error,
        "latency_ms": delivery.latency_ms,
        "next_attempt_at": _isoformat(delivery.next_attempt_at),
        "delivered_at": _isoformat(delivery.delivered_at),
        "created_at": delivery.created_at.isoformat(),
    }


# The shapes of the representations above, for the OpenAPI schema.


class WebhookEndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    is_active = serializers.BooleanField()
    disabled_reason = serializers.CharField(allow_blank=True)
    consecutive_failures = serializers.IntegerField(min_value=0)
    slow = serializers.BooleanField(
        help_text="Its p95 latency is over the slow threshold: its deliveries are spaced out, not retried harder."
    )
    slow_since = serializers.DateTimeField(allow_null=True)
    latency_p95_ms = serializers.IntegerField(
        min_value=0, allow_null=True, help_text="Over its recent attempts; null until there are enough of them."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookEndpointListOutput(serializers.Serializer):
    results = WebhookEndpointOutput(many=True)


class WebhookEndpointWithSecretOutput(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="Signs every delivery; shown only when it is made.")


class WebhookEndpointUpdatedOutput(WebhookEndpointOutput):
    secret = serializers.CharField(required=False, help_text="The new secret, present only when rotated.")


class _EventRef(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=EventType.choices)
    created_at = serializers.DateTimeField()


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint = serializers.UUIDField()
    event = _EventRef()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField(min_value=0)
    last_response_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    latency_ms = serializers.IntegerField(min_value=0, allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
