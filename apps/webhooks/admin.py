"""The back office view of webhooks: endpoints and their delivery log, for org admins and system admins.

Everything is read-only here except the actions, which go through the services; an org admin
sees only the own organization's rows.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.tenancy.models import Role
from ledgerx.errors import Conflict

from . import services
from .models import Delivery, OutboxEvent, WebhookEndpoint


class OrganizationScopedReadOnlyAdmin(admin.ModelAdmin):
    def _allowed(self, request) -> bool:
        return request.user.is_active and request.user.role in (Role.ORG_ADMIN, Role.SYSTEM_ADMIN)

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_system_admin else queryset.of(request.user.organization)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedReadOnlyAdmin):
    list_display = (
        "url",
        "organization",
        "is_active",
        "consecutive_failures",
        "slow",
        "latency_p95_ms",
        "event_types",
        "delivery_log",
    )
    list_filter = ("is_active", ("slow_since", admin.EmptyFieldListFilter))
    fields = (
        "organization",
        "url",
        "description",
        "event_types",
        "is_active",
        "disabled_reason",
        "consecutive_failures",
        "latency_p95_ms",
        "slow_since",
        "next_send_at",
        "created_at",
        "updated_at",
    )
    actions = ("enable", "disable")

    @admin.display(description="Slow", boolean=True, ordering="slow_since")
    def slow(self, endpoint: WebhookEndpoint) -> bool:
        return endpoint.slow_since is not None

    @admin.display(description="Delivery log")
    def delivery_log(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:webhooks_delivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">deliveries</a>', url, endpoint.id)

    @admin.action(description="Enable the selected endpoints (clears their failure count, sends what was paused)")
    def enable(self, request, queryset) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_update(endpoint=endpoint, is_active=True)
        self.message_user(request, f"Enabled {len(queryset)} endpoint(s).")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_update(endpoint=endpoint, is_active=False)
        self.message_user(request, f"Disabled {len(queryset)} endpoint(s).")


@admin.register(Delivery)
class DeliveryAdmin(OrganizationScopedReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_response_code",
        "latency_ms",
        "next_attempt_at",
        "attempting_until",
        "delivered_at",
    )
    list_filter = ("status", "event__type")
    list_select_related = ("event", "endpoint")
    search_fields = ("=event__id",)
    actions = ("redeliver",)

    @admin.display(description="Event type", ordering="event__type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request, queryset) -> None:
        queued = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery)
                queued += 1
            except Conflict as refusal:
                self.message_user(request, f"{delivery.id}: {refusal.message}", level=messages.WARNING)
        self.message_user(request, f"Queued {queued} redelivery(ies).")


@admin.register(OutboxEvent)
class OutboxEventAdmin(OrganizationScopedReadOnlyAdmin):
    list_display = ("created_at", "type", "id", "organization", "dispatched_at")
    list_filter = ("type",)
    search_fields = ("=id",)
