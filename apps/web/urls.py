from django.urls import include, path
from django_otp_webauthn import urls as webauthn_urls

from . import invitation_views, mfa_views, payment_views, pwa_views, receipt_views, views

# The WebAuthn plugin's ceremony views, but registration through ours (audited).
webauthn_patterns = [
    path(
        "registration/complete/",
        mfa_views.PasskeyRegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    *[pattern for pattern in webauthn_urls.urlpatterns if pattern.name != "credential-registration-complete"],
]

urlpatterns = [
    path("manifest.webmanifest", pwa_views.manifest, name="pwa-manifest"),
    path("sw.js", pwa_views.service_worker, name="pwa-service-worker"),
    path("offline/", pwa_views.offline, name="pwa-offline"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", invitation_views.invitation_accept, name="invitation-accept"),
    path("mfa/", mfa_views.mfa_settings, name="mfa-settings"),
    path("mfa/totp/", mfa_views.mfa_totp, name="mfa-totp"),
    path("mfa/verify/", mfa_views.mfa_verify, name="mfa-verify"),
    path("mfa/recovery-codes/", mfa_views.mfa_recovery_codes, name="mfa-recovery-codes"),
    path("mfa/devices/<str:kind>/<int:device_id>/remove", mfa_views.mfa_device_remove, name="mfa-device-remove"),
    path("mfa/webauthn/", include((webauthn_patterns, "otp_webauthn"))),
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
    path("finance/payments/", payment_views.vendor_payments, name="vendor-payments"),
    path("finance/payments/runs", payment_views.payment_run_draft, name="web-payment-run-draft"),
    path(
        "finance/payments/runs/<uuid:run_id>/release",
        payment_views.payment_run_act,
        {"action": "release"},
        name="web-payment-run-release",
    ),
    path(
        "finance/payments/runs/<uuid:run_id>/discard",
        payment_views.payment_run_act,
        {"action": "discard"},
        name="web-payment-run-discard",
    ),
    path("finance/payments/runs/<uuid:run_id>/file", payment_views.payment_run_file, name="web-payment-run-file"),
    path("approvals/panels", views.approvals_panels, name="approvals-panels"),
    path("system/", views.system_internals, name="system-internals"),
    path("system/panels", views.system_panels, name="system-panels"),
]
