from django.urls import path

from . import api

urlpatterns = [
    path("transactions/<uuid:transaction_id>/receipts", api.SpendReceiptsApi.as_view(), name="transaction-receipts"),
    path("receipts/missing", api.MissingReceiptsApi.as_view(), name="receipts-missing"),
    path("receipts/<uuid:receipt_id>", api.ReceiptDetailApi.as_view(), name="receipt-detail"),
    path("receipts/<uuid:receipt_id>/file", api.ReceiptFileApi.as_view(), name="receipt-file"),
    path("receipts/<uuid:receipt_id>/thumbnail", api.ReceiptThumbnailApi.as_view(), name="receipt-thumbnail"),
]
