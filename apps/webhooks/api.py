from rest_framework import status
from rest_framework.response import Response

from apps.ledger.api import NewestFirst
from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import ADMIN_ROLES
from ledgerx.errors import InvalidInput

from . import selectors, services
from .models import Delivery, WebhookEndpoint
from .serializers import (
    DeliveryListFilters,
    EndpointCreateInput,
    EndpointUpdateInput,
    delivery_representation,
    endpoint_representation,
)


def _valid(serializer_class, data):
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EndpointListCreateApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    def get(self, request):
        endpoints = selectors.webhook_endpoint_list(organization=self.organization)
        return Response({"results": [endpoint_representation(e) for e in endpoints]})

    def post(self, request):
        data = _valid(EndpointCreateInput, request.data)
        endpoint = services.webhook_endpoint_create(
            organization=self.organization,
            url=data["url"],
            event_types=data["event_types"],
            description=data["description"],
        )
        return Response(endpoint_representation(endpoint, with_secret=True), status=status.HTTP_201_CREATED)


class EndpointDetailApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    def get(self, request, endpoint_id):
        return Response(endpoint_representation(self.get_scoped(WebhookEndpoint.objects, endpoint_id)))

    def patch(self, request, endpoint_id):
        endpoint = self.get_scoped(WebhookEndpoint.objects, endpoint_id)
        data = _valid(EndpointUpdateInput, request.data)
        endpoint = services.webhook_endpoint_update(
            endpoint=endpoint,
            url=data.get("url"),
            event_types=data.get("event_types"),
            description=data.get("description"),
            is_active=data.get("is_active"),
            rotate_secret=data["rotate_secret"],
        )
        return Response(endpoint_representation(endpoint, with_secret=data["rotate_secret"]))

    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(endpoint=self.get_scoped(WebhookEndpoint.objects, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    def get(self, request, endpoint_id):
        endpoint = self.get_scoped(WebhookEndpoint.objects, endpoint_id)
        filters = _valid(DeliveryListFilters, request.query_params.dict())
        deliveries = selectors.delivery_list(endpoint=endpoint, status=filters.get("status"))
        paginator = NewestFirst()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response([delivery_representation(d) for d in page])


class DeliveryRedeliverApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    def post(self, request, delivery_id):
        delivery = services.delivery_redeliver(delivery=self.get_scoped(Delivery.objects, delivery_id))
        return Response(delivery_representation(delivery), status=status.HTTP_202_ACCEPTED)
