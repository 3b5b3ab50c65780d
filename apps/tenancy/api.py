from django.contrib.auth import update_session_auth_hash
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apps.budgets import department_moves
from apps.budgets import selectors as budget_selectors
from apps.budgets import services as budget_services
from apps.budgets.serializers import budget_representation
from ledgerx.errors import Forbidden, InvalidInput
from ledgerx.money import MoneyError, parse_amount
from ledgerx.ratelimit import client_ip
from ledgerx.schema import error_responses, public_error_responses

from . import selectors, services
from .api_base import StrictAPIView, TenantAPIView, validated
from .models import Department, Organization, User
from .permissions import ADMIN_ROLES, FINANCE_ROLES, PLATFORM_ROLES, TENANT_ROLES, RoleAllowed
from .serializers import (
    BudgetLimitInput,
    BudgetOutput,
    BudgetPeriodFilters,
    BudgetSetOutput,
    DepartmentInput,
    DepartmentOutput,
    DepartmentUpdateInput,
    OrganizationInput,
    OrganizationListOutput,
    OrganizationOutput,
    PasswordChangeInput,
    TokenInput,
    TokenOutput,
    UserInput,
    UserListOutput,
    UserOutput,
    UserRoleInput,
    department_representation,
    organization_representation,
    user_representation,
)


def _money(text: str, currency: str, field_name: str) -> int:
    try:
        return parse_amount(text, currency, allow_zero=True)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={field_name: [str(error)]}) from None


class TokenApi(StrictAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_issue",
        request=TokenInput,
        responses={200: TokenOutput, **public_error_responses(400, 401, 429)},
        description="Throttled before any password is checked: failures slow the (email, address) pair, "
        "the address and, gently, the email (429 with Retry-After); see docs/operations.md.",
    )
    def post(self, request):
        data = validated(TokenInput, request.data)
        key, user = services.token_issue(email=data["email"], password=data["password"], client_ip=client_ip(request))
        return Response({"token": key, "user": user_representation(user)})


class TokenRevokeApi(StrictAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="auth_token_revoke", responses={204: None, **error_responses()})
    def delete(self, request):
        if isinstance(request.auth, str):
            services.token_revoke(key=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(StrictAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_password_change",
        request=PasswordChangeInput,
        responses={204: None, **error_responses(400, 429)},
        description="Change your own password. Every other API token and session of yours ends; the token "
        "or session of this request stays. A wrong current password counts as a failed sign-in.",
    )
    def post(self, request):
        data = validated(PasswordChangeInput, request.data)
        services.user_password_change(
            user=request.user,
            current_password=data["current_password"],
            new_password=data["new_password"],
            client_ip=client_ip(request),
            keep_token_key=request.auth if isinstance(request.auth, str) else None,
        )
        if request.auth is None:  # signed in with a session: keep this one
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereApi(StrictAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout_everywhere",
        request=None,
        responses={204: None, **error_responses()},
        description="End every session and revoke every API token of yours, this request's included.",
    )
    def post(self, request):
        services.user_sign_out_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(StrictAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="me", responses={200: UserOutput, **error_responses()})
    def get(self, request):
        return Response(user_representation(request.user))


class OrganizationListCreateApi(StrictAPIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles = {"GET": TENANT_ROLES + PLATFORM_ROLES, "POST": PLATFORM_ROLES}

    @extend_schema(operation_id="organizations_list", responses={200: OrganizationListOutput, **error_responses()})
    def get(self, request):
        organizations = selectors.organization_list_visible(user=request.user)
        return Response({"results": [organization_representation(o) for o in organizations]})

    @extend_schema(
        operation_id="organizations_create",
        request=OrganizationInput,
        responses={201: OrganizationOutput, **error_responses(400)},
    )
    def post(self, request):
        data = validated(OrganizationInput, request.data)
        organization = services.organization_create(
            name=data["name"], currency=data["currency"], timezone_name=data["timezone"]
        )
        return Response(organization_representation(organization), status=status.HTTP_201_CREATED)


class UserListCreateApi(StrictAPIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles = {"GET": ADMIN_ROLES + PLATFORM_ROLES, "POST": ADMIN_ROLES + PLATFORM_ROLES}

    @extend_schema(operation_id="users_list", responses={200: UserListOutput, **error_responses()})
    def get(self, request):
        return Response({"results": [user_representation(u) for u in selectors.user_list_visible(user=request.user)]})

    @extend_schema(
        operation_id="users_create", request=UserInput, responses={201: UserOutput, **error_responses(400, 404)}
    )
    def post(self, request):
        data = validated(UserInput, request.data)
        organization = None
        if data["organization"] is not None:
            organization = Organization.objects.filter(id=data["organization"]).first()
            if organization is None:
                raise Http404
        user = services.user_create(
            actor=request.user,
            email=data["email"],
            password=data["password"],
            role=data["role"],
            organization=organization,
            department_id=data["department"],
        )
        return Response(user_representation(user), status=status.HTTP_201_CREATED)


class UserDetailApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(operation_id="users_retrieve", responses={200: UserOutput, **error_responses(404)})
    def get(self, request, user_id):
        return Response(user_representation(self.get_scoped(User.objects, user_id)))

    @extend_schema(
        operation_id="users_set_role",
        request=UserRoleInput,
        responses={200: UserOutput, **error_responses(400, 404, 409)},
        description="Change a user's role (org admin). An organization always keeps one org admin (409).",
    )
    def patch(self, request, user_id):
        user = self.get_scoped(User.objects, user_id)
        data = validated(UserRoleInput, request.data)
        user = services.user_set_role(actor=request.user, user=user, role=data["role"])
        return Response(user_representation(user))


def _current_month(organization):
    return budget_services.month_start(timezone.now(), organization.timezone)


class DepartmentListCreateApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "POST": ADMIN_ROLES}

    @extend_schema(operation_id="departments_list", responses={200: DepartmentOutput(many=True), **error_responses()})
    def get(self, request):
        departments = list(selectors.department_list_visible(user=request.user))
        periods = budget_selectors.budget_periods_for(departments=departments, month=_current_month(self.organization))
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
        department = services.department_create(
            organization=self.organization,
            name=data["name"],
            monthly_limit_minor=_money(data["monthly_limit"], currency, "monthly_limit"),
            parent_id=data["parent"],
            actor=request.user,
        )
        period = budget_selectors.budget_period_for(department=department, month=_current_month(self.organization))
        return Response(
            department_representation(department, budget_representation(period, currency)),
            status=status.HTTP_201_CREATED,
        )


class DepartmentDetailApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "PATCH": FINANCE_ROLES}

    def _department(self, request, department_id) -> Department:
        return self.get_scoped(selectors.department_list_visible(user=request.user), department_id)

    def _respond(self, department: Department, status_code: int = 200) -> Response:
        period = budget_selectors.budget_period_for(department=department, month=_current_month(self.organization))
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
            department = services.department_set_standing_limit(
                department=department, limit_minor=limit_minor, actor=request.user
            )
        return self._respond(department)


class DepartmentBudgetApi(TenantAPIView):
    allowed_roles = {"GET": TENANT_ROLES, "PUT": FINANCE_ROLES}
    filters_class = BudgetPeriodFilters

    def _month(self, text: str | None):
        return budget_services.parse_period(text) if text else _current_month(self.organization)

    @extend_schema(
        operation_id="departments_budget_retrieve",
        parameters=[BudgetPeriodFilters],
        responses={200: BudgetOutput, **error_responses(400, 404)},
    )
    def get(self, request, department_id):
        department = self.get_scoped(selectors.department_list_visible(user=request.user), department_id)
        month = self._month(self.filters.get("period"))
        period = budget_selectors.budget_period_for(department=department, month=month)
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
        period, notice = budget_services.budget_period_set_limit(
            department=department,
            month=self._month(data.get("period")),
            limit_minor=_money(data["limit"], currency, "limit"),
            actor=request.user,
        )
        return Response({**budget_representation(period, currency), "notice": notice})
