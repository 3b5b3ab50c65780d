from django.contrib.auth import update_session_auth_hash
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from ledgerx.ratelimit import client_ip
from ledgerx.schema import error_responses, public_error_responses

from . import selectors, services
from .api_base import StrictAPIView, TenantAPIView, validated
from .models import Organization, User
from .permissions import ADMIN_ROLES, PLATFORM_ROLES, TENANT_ROLES, RoleAllowed
from .serializers import (
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
    UserUnfreezeInput,
    organization_representation,
    user_representation,
)


class TokenApi(StrictAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_issue",
        request=TokenInput,
        responses={200: TokenOutput, **public_error_responses(400, 401, 403, 429)},
        description="Throttled before any password is checked: failures slow the (email, address) pair, "
        "the address and, gently, the email (429 with Retry-After); see docs/operations.md. A user with a "
        "second factor sends otp_code (401 second_factor_required without a right one); a finance manager, "
        "org admin or system admin who has not set one up gets 403 second_factor_enrollment_required.",
    )
    def post(self, request):
        data = validated(TokenInput, request.data)
        key, user = services.token_issue(
            email=data["email"],
            password=data["password"],
            client_ip=client_ip(request),
            otp_code=data.get("otp_code"),
        )
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


class UserUnfreezeApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="users_unfreeze",
        request=UserUnfreezeInput,
        responses={200: UserOutput, **error_responses(400, 404, 409)},
        description="Let a user whose spending a fraud verdict froze spend again (org admin), saying why; "
        "audited as user.unfrozen. Not frozen: 409.",
    )
    def post(self, request, user_id):
        user = self.get_scoped(User.objects, user_id)
        data = validated(UserUnfreezeInput, request.data)
        user = services.user_unfreeze(actor=request.user, user=user, reason=data["reason"])
        return Response(user_representation(user))
