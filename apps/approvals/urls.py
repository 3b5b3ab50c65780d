from django.urls import path

from . import api

urlpatterns = [
    path("approvals", api.ApprovalListApi.as_view(), name="approval-list"),
    path("approvals/<uuid:approval_id>/approve", api.ApprovalDecideApi.as_view(approve=True), name="approval-approve"),
    path("approvals/<uuid:approval_id>/reject", api.ApprovalDecideApi.as_view(approve=False), name="approval-reject"),
    path("approval-policies", api.ApprovalPolicyListCreateApi.as_view(), name="approval-policy-list"),
    path("approval-policies/<uuid:policy_id>", api.ApprovalPolicyDetailApi.as_view(), name="approval-policy-detail"),
]
