from django.urls import path

from . import api

urlpatterns = [
    path("fraud/alerts", api.AlertListApi.as_view(), name="fraud-alert-list"),
]
