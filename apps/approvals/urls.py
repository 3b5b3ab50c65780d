from django.urls import path

from . import api

urlpatterns = [
    path("approvals", api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<uuid:approval_id>/approve", api.ApprovalApproveApi.as_view(), name="approval-approve"),
    path("approvals/<uuid:approval_id>/reject", api.ApprovalRejectApi.as_view(), name="approval-reject"),
    path("approval-policies", api.ApprovalPolicyListCreateApi.as_view(), name="approval-policy-list"),
    path("approval-policies/<uuid:policy_id>", api.ApprovalPolicyDetailApi.as_view(), name="approval-policy-detail"),
]
