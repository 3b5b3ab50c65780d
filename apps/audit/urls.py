from django.urls import path

from . import api

urlpatterns = [
    path("audit/events", api.AuditEventListApi.as_view(), name="audit-events"),
]
