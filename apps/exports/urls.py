from django.urls import path

from . import api
from .layouts import ExportKind

# A path per kind, each its own route in the schema and the access matrix.
urlpatterns = [
    path(f"exports/{kind}", api.ExportApi.as_view(), {"kind": kind}, name=f"export-{kind}")
    for kind in ExportKind.values
]
