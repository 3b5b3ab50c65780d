from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors, services
from .models import Delivery, WebhookEndpoint
from .serializers import (
    DeliveryListFilters,
    EndpointCreateInput,
    EndpointUpdateInput,
    WebhookDeliveryOutput,
    WebhookEndpointListOutput,
    WebhookEndpointOutput,
    WebhookEndpointUpdatedOutput,
    WebhookEndpointWithSecretOutput,
    delivery_representation,
    endpoint_representation,
)


class EndpointListCreateApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="webhook_endpoints_list", responses={200: WebhookEndpointListOutput, **error_responses()}
    )
    def get(self, request):
        endpoints = selectors.webhook_endpoint_list(organization=self.organization)
        return Response({"results": [endpoint_representation(e) for e in endpoints]})

    @extend_schema(
        operation_id="webhook_endpoints_create",
        request=EndpointCreateInput,
        responses={201: WebhookEndpointWithSecretOutput, **error_responses(400)},
        description="Register an endpoint (org admin). The answer carries its signing secret, this once. "
        "A URL that resolves to a private or local address is refused (400).",
    )
    def post(self, request):
        data = validated(EndpointCreateInput, request.data)
        endpoint = services.webhook_endpoint_create(
            organization=self.organization,
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
            actor=request.user,
        )
        return Response(endpoint_representation(endpoint, with_secret=True), status=status.HTTP_201_CREATED)


class EndpointDetailApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="webhook_endpoints_retrieve", responses={200: WebhookEndpointOutput, **error_responses(404)}
    )
    def get(self, request, endpoint_id):
        return Response(endpoint_representation(self.get_scoped(WebhookEndpoint.objects, endpoint_id)))

    @extend_schema(
        operation_id="webhook_endpoints_update",
        request=EndpointUpdateInput,
        responses={200: WebhookEndpointUpdatedOutput, **error_responses(400, 404)},
        description="Change what is given. Disabling pauses the endpoint's waiting deliveries (and those of events "
        "raised while it is disabled); enabling clears the failure count and sends them in the order their events "
        "were raised; `rotate_secret` answers the new secret.",
    )
    def patch(self, request, endpoint_id):
        endpoint = self.get_scoped(WebhookEndpoint.objects, endpoint_id)
        data = validated(EndpointUpdateInput, request.data)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint,
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=data.get("description"),
            is_active=data.get("is_active"),
            rotate_secret=data["rotate_secret"],
            actor=request.user,
        )
        return Response(endpoint_representation(endpoint, with_secret=data["rotate_secret"]))

    @extend_schema(
        operation_id="webhook_endpoints_delete",
        responses={204: None, **error_responses(404)},
        description="Deletes the endpoint and its delivery log.",
    )
    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(
            endpoint=self.get_scoped(WebhookEndpoint.objects, endpoint_id), actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES
    filters_class = DeliveryListFilters
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="webhook_deliveries_list",
        parameters=[DeliveryListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("WebhookDeliveryPage", WebhookDeliveryOutput), **error_responses(400, 404)},
        description="The endpoint's deliveries, newest first.",
    )
    def get(self, request, endpoint_id):
        endpoint = self.get_scoped(WebhookEndpoint.objects, endpoint_id)
        deliveries = selectors.delivery_list(endpoint=endpoint, status=self.filters.get("status"))
        return self.paginated(deliveries, delivery_representation)


class DeliveryRedeliverApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES
    body_methods = ()

    @extend_schema(
        operation_id="webhook_deliveries_redeliver",
        request=None,
        responses={202: WebhookDeliveryOutput, **error_responses(404, 409)},
        description="Send the delivery's event once more, now. A disabled endpoint or a delivery being sent: 409.",
    )
    def post(self, request, delivery_id):
        delivery = services.delivery_redeliver(delivery=self.get_scoped(Delivery.objects, delivery_id))
        return Response(delivery_representation(delivery), status=status.HTTP_202_ACCEPTED)
