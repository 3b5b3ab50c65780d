"""Back office for fraud review: finance lists and resolves alerts, org admins tune their thresholds.

Every queryset is scoped to the staff user's organization; system admins see all of them.
"""

from django.contrib import admin, messages

from apps.tenancy.models import Role
from ledgerx.errors import LedgerXError

from . import services
from .models import FraudAlert, FraudSettings

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


def _resolve(modeladmin, request, queryset, resolution: str) -> None:
    resolved = 0
    for alert in queryset.filter(status=FraudAlert.Status.OPEN):
        try:
            services.alert_resolve(actor=request.user, alert_id=alert.id, resolution=resolution)
        except LedgerXError as error:
            modeladmin.message_user(request, f"{alert}: {error.message}", messages.ERROR)
        else:
            resolved += 1
    modeladmin.message_user(request, f"{resolved} alerts resolved as {resolution}.", messages.SUCCESS)


@admin.action(description="Resolve as legitimate")
def resolve_legitimate(modeladmin, request, queryset) -> None:
    _resolve(modeladmin, request, queryset, FraudAlert.Resolution.LEGITIMATE)


@admin.action(description="Resolve as fraud")
def resolve_fraud(modeladmin, request, queryset) -> None:
    _resolve(modeladmin, request, queryset, FraudAlert.Resolution.FRAUD)


@admin.register(FraudAlert)
class FraudAlertAdmin(OrganizationScopedAdmin):
    list_display = ("created_at", "rule", "score", "detail", "status", "resolution", "resolved_by")
    list_filter = ("status", "rule", "resolution")
    search_fields = ("detail", "transaction__merchant", "transaction__employee__email")
    date_hierarchy = "created_at"
    list_select_related = ("resolved_by",)
    actions = (resolve_legitimate, resolve_fraud)
    change_roles = REVIEWER_ROLES
    # Alerts change only through the resolve actions (the service), never through the form.
    readonly_fields = tuple(field.name for field in FraudAlert._meta.fields)


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
