from django.urls import path

from . import api

urlpatterns = [
    path("fraud/alerts", api.AlertListApi.as_view(), name="fraud-alert-list"),
    path("fraud/alerts/<uuid:alert_id>/resolve", api.AlertResolveApi.as_view(), name="fraud-alert-resolve"),
]
