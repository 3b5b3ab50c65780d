from django.urls import path

from . import api, api_returns

urlpatterns = [
    path("vendors", api.VendorListCreateApi.as_view(), name="vendor-list"),
    path("vendors/<uuid:vendor_id>", api.VendorDetailApi.as_view(), name="vendor-detail"),
    path("vendors/<uuid:vendor_id>/bank-changes", api.VendorBankChangeCreateApi.as_view(), name="vendor-bank-change"),
    path(
        "vendor-bank-changes/<uuid:change_id>/decision",
        api.VendorBankChangeDecisionApi.as_view(),
        name="vendor-bank-change-decision",
    ),
    path("bills", api.BillListCreateApi.as_view(), name="bill-list"),
    path("bills/<uuid:bill_id>", api.BillDetailApi.as_view(), name="bill-detail"),
    path("paying-accounts", api.PayingAccountListCreateApi.as_view(), name="paying-account-list"),
    path(
        "paying-accounts/<uuid:paying_account_id>", api.PayingAccountDetailApi.as_view(), name="paying-account-detail"
    ),
    path("payment-runs/preview", api.PaymentPreviewApi.as_view(), name="payment-run-preview"),
    path("payment-runs", api.PaymentRunListCreateApi.as_view(), name="payment-run-list"),
    path("payment-runs/<uuid:payment_run_id>", api.PaymentRunDetailApi.as_view(), name="payment-run-detail"),
    path("payment-runs/<uuid:payment_run_id>/release", api.PaymentRunReleaseApi.as_view(), name="payment-run-release"),
    path("payment-runs/<uuid:payment_run_id>/file", api.PaymentRunFileApi.as_view(), name="payment-run-file"),
    path("payments/<int:payment_id>/return", api_returns.PaymentReturnApi.as_view(), name="payment-return"),
    path("payment-return-files", api_returns.ReturnFileListCreateApi.as_view(), name="payment-return-file-list"),
    path(
        "payment-return-files/<uuid:return_file_id>",
        api_returns.ReturnFileDetailApi.as_view(),
        name="payment-return-file-detail",
    ),
]
