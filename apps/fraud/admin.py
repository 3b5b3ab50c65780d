"""Back office for fraud thresholds: org admins tune them, finance reads them. The alerts are reviewed
in apps/spending/admin.py, where a fraud verdict can reverse the spend.

Every queryset is scoped to the staff user's organization; system admins see all of them.
"""

from django.contrib import admin

from apps.tenancy.models import Role

from .models import FraudSettings

REVIEWER_ROLES = (Role.FINANCE_MANAGER, Role.ORG_ADMIN, Role.SYSTEM_ADMIN)


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Staff see their own organization's rows; system admins see every organization's."""

    view_roles: tuple = REVIEWER_ROLES
    change_roles: tuple = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_system_admin:
            return queryset
        return queryset.of(request.user.organization)

    def _role_in(self, request, roles) -> bool:
        return request.user.is_active and request.user.role in roles

    def has_module_permission(self, request) -> bool:
        return self._role_in(request, self.view_roles)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.view_roles)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._role_in(request, self.change_roles)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FraudSettings)
class FraudSettingsAdmin(OrganizationScopedAdmin):
    change_roles = (Role.ORG_ADMIN, Role.SYSTEM_ADMIN)
    list_display = (
        "organization",
        "outlier_method",
        "outlier_threshold",
        "velocity_count_limit",
        "velocity_amount_limit_minor",
        "structuring_threshold_minor",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("organization",)}),
        (
            "Amount outliers",
            {"fields": ("outlier_method", "outlier_threshold", "outlier_min_history", "robust_history_size")},
        ),
        (
            "Velocity",
            {
                "fields": (
                    "velocity_count_limit",
                    "velocity_count_window_seconds",
                    "velocity_amount_limit_minor",
                    "velocity_amount_window_seconds",
                )
            },
        ),
        (
            "Patterns",
            {
                "fields": (
                    "duplicate_window_seconds",
                    "structuring_threshold_minor",
                    "structuring_margin_percent",
                    "structuring_min_count",
                    "structuring_window_hours",
                    "unusual_hours_gap_minutes",
                    "unusual_hours_min_history",
                    "blocked_categories",
                )
            },
        ),
    )

    def has_add_permission(self, request) -> bool:
        """An org admin adds their organization's settings once (until then the defaults apply)."""
        if request.user.is_system_admin:
            return True
        return (
            self._role_in(request, self.change_roles)
            and not FraudSettings.objects.of(request.user.organization).exists()
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None or not request.user.is_system_admin:
            return ("organization",)
        return ()

    def save_model(self, request, obj, form, change) -> None:
        if not request.user.is_system_admin:
            obj.organization = request.user.organization
        super().save_model(request, obj, form, change)
