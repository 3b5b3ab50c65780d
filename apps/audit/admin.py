from django.contrib import admin

from .models import AuditChange, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """The logs are append-only, and the database refuses changes anyway."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "actor_email", "action", "target_type", "target_id")
    list_filter = ("action", "organization")
    search_fields = ("actor_email", "target_id")
    ordering = ("-created_at", "-id")


@admin.register(AuditChange)
class AuditChangeAdmin(ReadOnlyAdmin):
    """The database writes the change log."""

    list_display = ("changed_at", "organization_id", "actor", "operation", "table_name", "row_id")
    list_filter = ("operation", "table_name")
    search_fields = ("actor", "row_id", "context_id")
    ordering = ("-id",)
