from django.urls import path

from . import api

urlpatterns = [
    path("approval-policies", api.ApprovalPolicyListCreateApi.as_view(), name="approval-policy-list"),
    path("approval-policies/<uuid:policy_id>", api.ApprovalPolicyDetailApi.as_view(), name="approval-policy-detail"),
]
