from django.contrib import admin

from .models import AuditChange, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, and the database refuses changes anyway."""

    list_display = ("created_at", "organization", "actor_email", "action", "target_type", "target_id")
    list_filter = ("action", "organization")
    search_fields = ("actor_email", "target_id")
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditChange)
class AuditChangeAdmin(admin.ModelAdmin):
    """Read-only: the database writes the change log and refuses changes to it."""

    list_display = ("changed_at", "organization_id", "actor", "operation", "table_name", "row_id")
    list_filter = ("operation", "table_name")
    search_fields = ("actor", "row_id", "context_id")
    ordering = ("-id",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
