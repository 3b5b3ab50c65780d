from datetime import datetime

from django.db.models import QuerySet

from apps.tenancy.models import Organization

from .models import AuditEvent


def audit_event_list(
    *, organization: Organization, action: str | None = None, target_id: str | None = None
) -> QuerySet[AuditEvent]:
    """The organization's back-office events, newest first."""
    events = AuditEvent.objects.of(organization).select_related("actor")
    if action:
        events = events.filter(action=action)
    if target_id:
        events = events.filter(target_id=target_id)
    return events.order_by("-created_at", "-id")


def audit_events_between(
    *, organization: Organization, actions: list[str], starts_at: datetime, ends_at: datetime
) -> QuerySet[AuditEvent]:
    """The organization's events of `actions` from `starts_at` until before `ends_at`, oldest first."""
    return (
        AuditEvent.objects.of(organization)
        .filter(action__in=actions, created_at__gte=starts_at, created_at__lt=ends_at)
        .order_by("created_at", "id")
    )
