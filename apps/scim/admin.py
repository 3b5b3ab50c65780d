"""The SCIM connection in the back office, for org admins: tokens issued (the key shown once), rotated
and revoked, and groups mapped to departments or roles. Every write goes through services.py."""

from django.contrib import admin, messages

from apps.tenancy.admin_scoping import OrganizationScopedAdmin
from apps.tenancy.permissions import ADMIN_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError

from . import services
from .models import ScimGroupMapping, ScimToken


def _told(request, error: LedgerXError) -> None:
    messages.error(request, error.message)


def _show_key_once(request, token: ScimToken, key: str) -> None:
    messages.warning(
        request, f"The key of {token.name}, shown this once (only its hash is kept); give it to the provider: {key}"
    )


@admin.register(ScimToken)
class ScimTokenAdmin(OrganizationScopedAdmin):
    view_roles = ADMIN_ROLES + PLATFORM_ROLES
    add_roles = ADMIN_ROLES
    list_display = ("name", "key_prefix", "organization", "created_at", "created_by", "revoked_at")
    fields = ("name",)
    actions = ("rotate", "revoke")

    def get_readonly_fields(self, request, obj=None):
        return ("name", "key_prefix", "created_at", "created_by", "revoked_at") if obj else ()

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) if obj else ("name",)

    def save_model(self, request, obj, form, change) -> None:
        key, token = services.scim_token_issue(
            organization=request.user.organization, name=obj.name, actor=request.user
        )
        # The admin goes on with `obj` (its log entry, its redirect): make it the issued token.
        obj.pk, obj.key_prefix, obj.organization = token.pk, token.key_prefix, token.organization
        _show_key_once(request, token, key)

    @admin.action(description="Rotate: revoke and issue a new key under the same name")
    def rotate(self, request, queryset) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                key, new_token = services.scim_token_rotate(token=token, actor=request.user)
            except LedgerXError as error:
                _told(request, error)
                return
            _show_key_once(request, new_token, key)

    @admin.action(description="Revoke: the provider's requests with it stop at once")
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            try:
                services.scim_token_revoke(token=token, actor=request.user)
            except LedgerXError as error:
                _told(request, error)
                return
        messages.success(request, f"Revoked {queryset.count()} token(s).")


@admin.register(ScimGroupMapping)
class ScimGroupMappingAdmin(OrganizationScopedAdmin):
    view_roles = ADMIN_ROLES + PLATFORM_ROLES
    add_roles = ADMIN_ROLES
    change_roles = ADMIN_ROLES
    delete_roles = ADMIN_ROLES
    list_display = ("group_name", "department", "role", "organization")
    fields = ("group_name", "department", "role")

    def get_readonly_fields(self, request, obj=None):
        # A mapping is of one group: to map another, add a mapping.
        return ("group_name",) if obj else ()

    def save_model(self, request, obj, form, change) -> None:
        mapping = services.group_mapping_set(
            organization=request.user.organization,
            group_name=obj.group_name,
            department=obj.department,
            role=obj.role,
            actor=request.user,
        )
        obj.pk = mapping.pk

    def delete_model(self, request, obj) -> None:
        services.group_mapping_remove(mapping=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for mapping in queryset:
            services.group_mapping_remove(mapping=mapping, actor=request.user)
