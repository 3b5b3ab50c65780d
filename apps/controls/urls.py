from django.urls import path

from . import api

urlpatterns = [
    path("spend-policies", api.SpendPolicyApi.as_view(), name="spend-policy"),
    path("spend-policies/rules", api.SpendRuleCreateApi.as_view(), name="spend-rule-list"),
    path("spend-policies/rules/<uuid:rule_id>", api.SpendRuleDetailApi.as_view(), name="spend-rule-detail"),
]
