from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.system import views as system_views

api_v1 = [
    path("", include("apps.tenancy.urls")),
    path("", include("apps.ledger.urls")),
    path("", include("apps.audit.urls")),
]

urlpatterns = [
    path("healthz", system_views.healthz, name="healthz"),
    path("readyz", system_views.readyz, name="readyz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler404 = "ledgerx.errors.json_not_found"
handler500 = "ledgerx.errors.json_server_error"
