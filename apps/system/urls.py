from django.urls import path

from . import api

urlpatterns = [
    path("system/metrics", api.SystemMetricsApi.as_view(), name="system-metrics"),
]
