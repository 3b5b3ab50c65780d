from django.urls import path

from . import api

urlpatterns = [
    path("endpoints", api.EndpointListCreateApi.as_view(), name="webhook-endpoint-list"),
    path("endpoints/<uuid:endpoint_id>", api.EndpointDetailApi.as_view(), name="webhook-endpoint-detail"),
    path("endpoints/<uuid:endpoint_id>/deliveries", api.DeliveryListApi.as_view(), name="webhook-delivery-list"),
    path(
        "deliveries/<uuid:delivery_id>/redeliver", api.DeliveryRedeliverApi.as_view(), name="webhook-delivery-redeliver"
    ),
]
