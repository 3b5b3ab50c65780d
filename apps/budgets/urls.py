from django.urls import path

from . import api

urlpatterns = [
    path("departments", api.DepartmentListCreateApi.as_view(), name="department-list"),
    path("departments/<uuid:department_id>", api.DepartmentDetailApi.as_view(), name="department-detail"),
    path("departments/<uuid:department_id>/budget", api.DepartmentBudgetApi.as_view(), name="department-budget"),
]
