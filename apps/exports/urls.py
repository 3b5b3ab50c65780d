from django.urls import re_path

from . import api
from .layouts import ExportKind

urlpatterns = [
    re_path(rf"^exports/(?P<kind>{'|'.join(ExportKind.values)})$", api.ExportApi.as_view(), name="export"),
]
