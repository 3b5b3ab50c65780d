from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery

from apps.tenancy.models import Organization

from .models import PLATFORM_CHAIN, AuditChange, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """The logs are append-only, and the database refuses changes anyway."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


PLATFORM = "platform"


class OrganizationFilter(admin.SimpleListFilter):
    """Each organization's events, and the platform's (PLATFORM_CHAIN): the column is not a foreign key."""

    title = "organization"
    parameter_name = "organization"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        organizations = Organization.objects.order_by("slug").values_list("id", "slug")
        return [(str(PLATFORM_CHAIN), PLATFORM), *((str(id_), slug) for id_, slug in organizations)]

    def queryset(self, request, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.value() is None:
            return queryset
        return queryset.filter(organization_id=self.value())


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "actor_email", "action", "target_type", "target_id")
    list_filter = ("action", OrganizationFilter)
    search_fields = ("actor_email", "target_id")
    ordering = ("-created_at", "-id")

    def get_queryset(self, request) -> QuerySet[AuditEvent]:
        slug = Organization.objects.filter(id=OuterRef("organization_id")).values("slug")
        return super().get_queryset(request).annotate(organization_slug=Subquery(slug))

    @admin.display(description="organization", ordering="organization_slug")
    def organization(self, event: AuditEvent) -> str:
        return PLATFORM if event.organization_id == PLATFORM_CHAIN else event.organization_slug


@admin.register(AuditChange)
class AuditChangeAdmin(ReadOnlyAdmin):
    """The database writes the change log."""

    list_display = ("changed_at", "organization_id", "actor", "operation", "table_name", "row_id")
    list_filter = ("operation", "table_name")
    search_fields = ("actor", "row_id", "context_id")
    ordering = ("-id",)
