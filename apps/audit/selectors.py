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
