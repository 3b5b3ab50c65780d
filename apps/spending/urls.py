from django.urls import path

from . import api

urlpatterns = [
    path("transactions", api.TransactionListCreateApi.as_view(), name="transaction-list"),
    path("transactions/bulk", api.TransactionBulkSubmitApi.as_view(), name="transaction-bulk"),
    path("transactions/<uuid:transaction_id>", api.TransactionDetailApi.as_view(), name="transaction-detail"),
    path("transactions/<uuid:transaction_id>/reverse", api.TransactionReverseApi.as_view(), name="transaction-reverse"),
    path("approvals", api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<uuid:approval_id>/approve", api.ApprovalApproveApi.as_view(), name="approval-approve"),
    path("approvals/<uuid:approval_id>/reject", api.ApprovalRejectApi.as_view(), name="approval-reject"),
    path("fraud/alerts/<uuid:alert_id>/resolve", api.FraudAlertResolveApi.as_view(), name="fraud-alert-resolve"),
]
