import uuid

from django.db.models import QuerySet

from apps.tenancy.models import Organization

from .models import Delivery, WebhookEndpoint


def webhook_endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.of(organization).order_by("created_at", "id")


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[Delivery]:
    """An endpoint's delivery log, newest first."""
    deliveries = Delivery.objects.filter(endpoint=endpoint).select_related("event")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def subscribed_event_types(*, organization_id: uuid.UUID) -> set[str]:
    """The event types at least one of the organization's endpoints subscribes to.

    A disabled endpoint counts: what is raised while it is disabled is kept for it, paused.
    """
    return {
        event_type
        for event_types in WebhookEndpoint.objects.filter(organization_id=organization_id).values_list(
            "event_types", flat=True
        )
        for event_type in event_types
    }
