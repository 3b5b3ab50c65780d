"""/api/v1/push: the key a browser subscribes with, and its subscription."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from ledgerx.schema import error_responses

from . import selectors, services


class PushKeyOutput(serializers.Serializer):
    public_key = serializers.CharField(
        allow_null=True,
        help_text="The VAPID applicationServerKey (base64url); null when this server sends no Web Push.",
    )


class SubscriptionKeysInput(serializers.Serializer):
    p256dh = serializers.CharField(max_length=128)
    auth = serializers.CharField(max_length=64)


class SubscriptionInput(serializers.Serializer):
    """PushSubscription.toJSON() as the browser gives it."""

    endpoint = serializers.URLField(max_length=2048)
    expirationTime = serializers.IntegerField(allow_null=True, required=False)  # the browser's own name for it
    keys = SubscriptionKeysInput()

    def validate_keys(self, keys: dict) -> dict:
        unknown = sorted(set(self.initial_data.get("keys") or {}) - {"p256dh", "auth"})
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return keys


class SubscriptionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    endpoint = serializers.URLField()
    created_at = serializers.DateTimeField()


class PushKeyApi(TenantAPIView):
    @extend_schema(operation_id="push_key", responses={200: PushKeyOutput, **error_responses()})
    def get(self, request):
        return Response({"public_key": selectors.push_public_key()})


class PushSubscriptionsApi(TenantAPIView):
    @extend_schema(
        operation_id="push_subscriptions_create",
        request=SubscriptionInput,
        responses={201: SubscriptionOutput, **error_responses(400)},
        description="Keep this browser's Web Push subscription for you: notices of your spends' decisions and of "
        "approvals waiting for you. An endpoint that is not a known push service, or keys of the wrong size: 400. "
        "The same endpoint again updates it.",
    )
    def post(self, request):
        data = validated(SubscriptionInput, request.data)
        subscription = services.push_subscribe(
            user=request.user,
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
        )
        body = {"id": subscription.id, "endpoint": subscription.endpoint, "created_at": subscription.created_at}
        return Response(SubscriptionOutput(body).data, status=status.HTTP_201_CREATED)
