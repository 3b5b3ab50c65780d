"""The back office view of webhooks: endpoints and their delivery log, for org admins and system admins.

Org admins add, change and delete endpoints through the services; the delivery log and the outbox
are read-only but for the actions, which go through the services too. An org admin sees only the
own organization's rows.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.tenancy.admin_scoping import OrganizationScopedAdmin
from apps.tenancy.models import Role
from apps.tenancy.permissions import ADMIN_ROLES, PLATFORM_ROLES
from ledgerx.errors import Conflict, LedgerXError

from . import services
from .models import Delivery, EventType, OutboxEvent, WebhookEndpoint


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


class WebhookEndpointForm(forms.ModelForm):
    """An endpoint's settings; webhooks.services decides whether LedgerX would send to it."""

    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)
    rotate_secret = forms.BooleanField(
        required=False, help_text="Make a new signing secret; the receiver must be given it."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "event_types", "is_active")

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.webhook_endpoint_check(url=cleaned["url"], event_types=cleaned["event_types"])
        except LedgerXError as error:
            if not error.fields:
                self.add_error(None, error.message)
            for name, problems in error.fields.items():
                self.add_error(name if name in self.fields else None, problems)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OrganizationScopedAdmin):
    """Org admins add, change and delete their organization's endpoints through the services (each
    change audited); system admins see every organization's and enable or disable them."""

    form = WebhookEndpointForm
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    add_roles = ADMIN_ROLES
    change_roles = ADMIN_ROLES
    delete_roles = ADMIN_ROLES
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
    list_select_related = ("organization",)
    readonly_fields = (
        "organization",
        "disabled_reason",
        "consecutive_failures",
        "latency_p95_ms",
        "slow_since",
        "next_send_at",
        "created_at",
        "updated_at",
    )
    actions = ("enable", "disable")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("url", "description", "event_types")
        settings = ("url", "description", "event_types", "is_active")
        rotate = ("rotate_secret",) if self.has_change_permission(request, obj) else ()
        return (*settings, *rotate, *self.readonly_fields)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            endpoint = services.webhook_endpoint_update(
                endpoint=obj,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                is_active=data["is_active"],
                rotate_secret=data["rotate_secret"],
                actor=request.user,
            )
            shown = data["rotate_secret"]
        else:
            endpoint = services.webhook_endpoint_create(
                organization=request.user.organization,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                actor=request.user,
            )
            shown = True
        # The service wrote the endpoint; the form's instance only carries its id to the log and the redirect.
        obj.pk = endpoint.pk
        if shown:
            self.message_user(
                request, f"Signing secret of {endpoint.url}, shown this once: {endpoint.secret}", messages.WARNING
            )

    def delete_model(self, request, obj) -> None:
        services.webhook_endpoint_delete(endpoint=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)

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
            services.webhook_endpoint_update(endpoint=endpoint, is_active=True, actor=request.user)
        self.message_user(request, f"Enabled {len(queryset)} endpoint(s).")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset) -> None:
        for endpoint in queryset:
            services.webhook_endpoint_update(endpoint=endpoint, is_active=False, actor=request.user)
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
