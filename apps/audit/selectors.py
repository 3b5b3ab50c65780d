from datetime import datetime

from django.db.models import QuerySet

from apps.tenancy.models import Organization

from .models import AuditChange, AuditEvent


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


def audit_changes_of(
    *,
    organization: Organization,
    tables: list[str],
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    row_ids: list[str] | None = None,
) -> QuerySet[AuditChange]:
    """The organization's captured row changes of `tables` (optionally from `starts_at` until before
    `ends_at`, and of `row_ids` only), in capture order."""
    changes = AuditChange.objects.filter(organization_id=organization.id, table_name__in=tables)
    if starts_at is not None:
        changes = changes.filter(changed_at__gte=starts_at)
    if ends_at is not None:
        changes = changes.filter(changed_at__lt=ends_at)
    if row_ids is not None:
        changes = changes.filter(row_id__in=row_ids)
    return changes.order_by("id")


def audit_event_captures(*, organization: Organization, context_ids: list[str]) -> QuerySet[AuditChange]:
    """The captures (INSERTs, every column in `after`) of the organization's back-office events
    written in the requests, tasks or commands `context_ids`, in capture order."""
    return AuditChange.objects.filter(
        organization_id=organization.id,
        table_name=AuditEvent._meta.db_table,
        operation=AuditChange.Operation.INSERT,
        context_id__in=[context_id for context_id in context_ids if context_id],
    ).order_by("id")
