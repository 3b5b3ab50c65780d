"""Departments and their monthly budgets over HTTP."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.tenancy import selectors as tenancy_selectors
from apps.tenancy import services as tenancy_services
from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.models import Department
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import Forbidden, InvalidInput
from ledgerx.money import MoneyError, parse_amount
from ledgerx.months import month_parse, month_start
from ledgerx.schema import error_responses

from . import department_moves, selectors, services
from .serializers import (
    BudgetLimitInput,
    BudgetOutput,
    BudgetPeriodFilters,
    BudgetSetOutput,
    DepartmentInput,
    DepartmentOutput,
    DepartmentUpdateInput,
    budget_representation,
    department_representation,
)


def _money(text: str, currency: str, field_name: str) -> int:
    try:
        return parse_amount(text, currency, allow_zero=True)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field_name: [str(error)]}) from None


def _current_month(organization):
    return month_start(timezone.now(), organization.timezone)


class DepartmentListCreateApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "POST": ADMIN_ROLES}

    @extend_schema(operation_id="departments_list", responses={200: DepartmentOutput(many=True), **error_responses()})
    def get(self, request):
        departments = list(tenancy_selectors.department_list_visible(user=request.user))
        periods = selectors.budget_periods_for(departments=departments, month=_current_month(self.organization))
        currency = self.organization.currency
        return Response(
            [department_representation(d, budget_representation(periods[d.id], currency)) for d in departments]
        )

    @extend_schema(
        operation_id="departments_create",
        request=DepartmentInput,
        responses={201: DepartmentOutput, **error_responses(400, 404)},
    )
    def post(self, request):
        data = validated(DepartmentInput, request.data)
        currency = self.organization.currency
        if data.get("currency", currency) != currency:
            raise InvalidInput(f"Budgets are kept in {currency}.", fields={"currency": [f"Must be {currency}."]})
        department = tenancy_services.department_create(
            organization=self.organization,
            name=data["name"],
            monthly_limit_minor=_money(data["monthly_limit"], currency, "monthly_limit"),
            parent_id=data["parent"],
            actor=request.user,
        )
        period = selectors.budget_period_for(department=department, month=_current_month(self.organization))
        return Response(
            department_representation(department, budget_representation(period, currency)),
            status=status.HTTP_201_CREATED,
        )


class DepartmentDetailApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "PATCH": FINANCE_ROLES}

    def _department(self, request, department_id) -> Department:
        return self.get_scoped(tenancy_selectors.department_list_visible(user=request.user), department_id)

    def _respond(self, department: Department, status_code: int = 200) -> Response:
        period = selectors.budget_period_for(department=department, month=_current_month(self.organization))
        return Response(
            department_representation(department, budget_representation(period, self.organization.currency)),
            status=status_code,
        )

    @extend_schema(operation_id="departments_retrieve", responses={200: DepartmentOutput, **error_responses(404)})
    def get(self, request, department_id):
        return self._respond(self._department(request, department_id))

    @extend_schema(
        operation_id="departments_update",
        request=DepartmentUpdateInput,
        responses={200: DepartmentOutput, **error_responses(400, 404, 409)},
        description="Rename or move (`parent`) a department (org admin), or set its standing `monthly_limit` "
        "(finance manager, org admin): the limit each month opens with; a month already open changes "
        "only through PUT /departments/{id}/budget. A move takes the subtree's spend and holds along with it, out "
        "of the budgets of the ancestors it leaves and into those it joins: 409 where that money does not fit "
        "a new ancestor's limit.",
    )
    def patch(self, request, department_id):
        department = self._department(request, department_id)
        data = validated(DepartmentUpdateInput, request.data)
        if ("name" in data or "parent" in data) and request.user.role not in ADMIN_ROLES:
            raise Forbidden("Only an org admin may rename or move a department.")
        limit_minor = None
        if "monthly_limit" in data:
            limit_minor = _money(data["monthly_limit"], self.organization.currency, "monthly_limit")
        if "name" in data or "parent" in data:
            department = department_moves.department_change(
                department=department,
                name=data.get("name"),
                parent_id=data.get("parent"),
                move="parent" in data,
                actor=request.user,
            )
        if limit_minor is not None:
            department = tenancy_services.department_set_standing_limit(
                department=department, limit_minor=limit_minor, actor=request.user
            )
        return self._respond(department)


class DepartmentBudgetApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "PUT": FINANCE_ROLES}
    filters_class = BudgetPeriodFilters

    def _month(self, text: str | None):
        return month_parse(text, field="period") if text else _current_month(self.organization)

    @extend_schema(
        operation_id="departments_budget_retrieve",
        parameters=[BudgetPeriodFilters],
        responses={200: BudgetOutput, **error_responses(400, 404)},
    )
    def get(self, request, department_id):
        department = self.get_scoped(tenancy_selectors.department_list_visible(user=request.user), department_id)
        month = self._month(self.filters.get("period"))
        period = selectors.budget_period_for(department=department, month=month)
        return Response(budget_representation(period, self.organization.currency))

    @extend_schema(
        operation_id="departments_budget_set",
        request=BudgetLimitInput,
        responses={200: BudgetSetOutput, **error_responses(400, 404)},
    )
    def put(self, request, department_id):
        department = self.get_scoped(Department.objects, department_id)
        data = validated(BudgetLimitInput, request.data)
        currency = self.organization.currency
        period, notice = services.budget_period_set_limit(
            department=department,
            month=self._month(data.get("period")),
            limit_minor=_money(data["limit"], currency, "limit"),
            actor=request.user,
        )
        return Response({**budget_representation(period, currency), "notice": notice})
