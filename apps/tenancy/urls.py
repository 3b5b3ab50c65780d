from django.urls import path

from . import api

urlpatterns = [
    path("auth/token", api.TokenApi.as_view(), name="auth-token"),
    path("auth/token/revoke", api.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("auth/password", api.PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/logout-everywhere", api.SignOutEverywhereApi.as_view(), name="auth-logout-everywhere"),
    path("me", api.MeApi.as_view(), name="me"),
    path("organizations", api.OrganizationListCreateApi.as_view(), name="organization-list"),
    path("users", api.UserListCreateApi.as_view(), name="user-list"),
    path("users/<uuid:user_id>", api.UserDetailApi.as_view(), name="user-detail"),
    path("users/<uuid:user_id>/unfreeze", api.UserUnfreezeApi.as_view(), name="user-unfreeze"),
]
