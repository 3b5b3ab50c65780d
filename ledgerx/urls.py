from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.system import views as system_views

api_v1 = [
    path("", include("apps.tenancy.urls")),
    path("", include("apps.budgets.urls")),
    path("", include("apps.spending.urls")),
    path("", include("apps.ledger.urls")),
    path("", include("apps.approvals.urls")),
    path("", include("apps.controls.urls")),
    path("", include("apps.fx.urls")),
    path("", include("apps.receipts.urls")),
    path("webhooks/", include("apps.webhooks.urls")),
    path("", include("apps.system.urls")),
    path("", include("apps.nlq.urls")),
    path("", include("apps.fraud.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.reports.urls")),
    path("", include("apps.reimbursements.urls")),
    path("", include("apps.reconciliation.urls")),
    path("", include("apps.exports.urls")),
    path("", include("apps.push.urls")),
    path("", include("apps.payables.urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page links; send them to the one icon.
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("healthz", system_views.healthz, name="healthz"),
    path("readyz", system_views.readyz, name="readyz"),
    path("metrics", system_views.prometheus_metrics, name="prometheus-metrics"),
    path("api/v1/", include(api_v1)),
    # SCIM 2.0 provisioning for identity providers (RFC 7644), outside /api/v1: its own protocol and errors.
    path("scim/v2/", include("apps.scim.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("sso/", include("apps.sso.urls")),
    path("", include("apps.web.urls")),
]

handler400 = "ledgerx.errors.bad_request"
handler403 = "ledgerx.errors.permission_denied"
handler404 = "ledgerx.errors.not_found"
handler500 = "ledgerx.errors.server_error"
