from django.urls import path

from . import api, dashboard_api

urlpatterns = [
    path("reports", api.ReportApi.as_view(), name="report"),
    path("reports/dashboard", dashboard_api.DashboardApi.as_view(), name="report-dashboard"),
    path("reports/runs/<uuid:run_id>", api.ReportRunApi.as_view(), name="report-run"),
    path("reports/access-review/sign-offs", api.AccessReviewSignOffApi.as_view(), name="access-review-sign-off"),
]
