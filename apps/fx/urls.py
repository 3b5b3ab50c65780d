from django.urls import path

from . import api

urlpatterns = [
    path("fx-rates", api.FxRateListCreateApi.as_view(), name="fx-rate-list"),
    path("fx-rates/ecb-import", api.FxEcbImportApi.as_view(), name="fx-rate-ecb-import"),
    path("fx-rates/<int:rate_id>", api.FxRateDetailApi.as_view(), name="fx-rate-detail"),
]
