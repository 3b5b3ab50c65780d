"""Back office views of organizations, departments and users: read-only here; they change through
the API, whose services hold the rules (a department opens its expense account, a user's role
needs an organization, ...), or through actions that call those services."""

from django import forms
from django.contrib import admin, messages

from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import services
from .admin_scoping import ActionForm, OrganizationScopedAdmin, action_form, action_form_page, role_in
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


class UserUnfreezeForm(ActionForm):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why they may spend again; it is kept in the audit log.",
    )


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    # As in the API, finance managers do not list users.
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    list_display = ("email", "role", "organization", "department", "is_active", "frozen_at", "last_login")
    list_filter = ("role", "is_active", ("frozen_at", admin.EmptyFieldListFilter))
    list_select_related = ("organization", "department")
    search_fields = ("email",)
    exclude = ("password", "groups", "user_permissions")
    actions = ("unfreeze",)

    def has_unfreeze_permission(self, request) -> bool:
        # As in the API: an org admin lifts a freeze in their own organization.
        return role_in(request, ADMIN_ROLES)

    @admin.action(description="Let the selected frozen users spend again", permissions=["unfreeze"])
    def unfreeze(self, request, queryset):
        form = action_form(UserUnfreezeForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Unfreeze spending", submit_label="Unfreeze them"
            )
        for user in queryset:
            try:
                services.user_unfreeze(actor=request.user, user=user, reason=form.cleaned_data["reason"])
            except LedgerXError as error:
                self.message_user(request, f"{user.email}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{user.email} may spend again.")
        return None
