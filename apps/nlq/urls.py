from django.urls import path

from . import api

urlpatterns = [
    path("query", api.QueryApi.as_view(), name="query"),
]
