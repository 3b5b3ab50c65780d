from django.urls import path

from . import api

urlpatterns = [
    path("reimbursements", api.ClaimListCreateApi.as_view(), name="reimbursement-list"),
    path("reimbursements/<uuid:claim_id>", api.ClaimDetailApi.as_view(), name="reimbursement-detail"),
    path("payout-batches", api.BatchListCreateApi.as_view(), name="payout-batch-list"),
    path("payout-batches/<uuid:batch_id>", api.BatchDetailApi.as_view(), name="payout-batch-detail"),
    path("payout-batches/<uuid:batch_id>/release", api.BatchReleaseApi.as_view(), name="payout-batch-release"),
    path("payout-batches/<uuid:batch_id>/export.csv", api.BatchExportApi.as_view(), name="payout-batch-export"),
]
