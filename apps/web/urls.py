from django.urls import path

from . import receipt_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("panels/home", views.employee_panels, name="home-panels"),
    path("claims/", views.claim_submit, name="claim-submit"),
    path("spends/<uuid:transaction_id>/receipts", receipt_views.spend_receipts, name="spend-receipts"),
    path(
        "spends/<uuid:transaction_id>/receipts/panel", receipt_views.spend_receipts_panel, name="spend-receipts-panel"
    ),
    path("finance/", views.finance_dashboard, name="finance-dashboard"),
    path("finance/panels", views.finance_panels, name="finance-panels"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/panels", views.approvals_panels, name="approvals-panels"),
    path("system/", views.system_internals, name="system-internals"),
    path("system/panels", views.system_panels, name="system-panels"),
]
