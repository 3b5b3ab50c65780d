"""Back office views of organizations, departments and users: read-only here; they change through
the API, whose services hold the rules (a department opens its expense account, a user's role
needs an organization, ...)."""

from django.contrib import admin

from ledgerx.money import format_money

from .admin_scoping import OrganizationScopedAdmin
from .models import Department, Organization, User
from .permissions import ADMIN_ROLES, PLATFORM_ROLES


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    list_display = ("name", "slug", "currency", "timezone", "created_at")
    search_fields = ("name", "slug")

    def scope(self, queryset, organization):
        return queryset.filter(id=organization.id)


@admin.register(Department)
class DepartmentAdmin(OrganizationScopedAdmin):
    list_display = ("name", "parent", "monthly_limit", "head", "organization")
    list_select_related = ("parent", "head", "organization")
    search_fields = ("name",)
    ordering = ("name",)

    @admin.display(description="Monthly limit", ordering="monthly_limit_minor")
    def monthly_limit(self, department: Department) -> str:
        return format_money(department.monthly_limit_minor, department.organization.currency)


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    # As in the API, finance managers do not list users.
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    list_display = ("email", "role", "organization", "department", "is_active", "last_login")
    list_filter = ("role", "is_active")
    list_select_related = ("organization", "department")
    search_fields = ("email",)
    exclude = ("password", "groups", "user_permissions")
