from rest_framework import serializers

from .models import AuditEvent


class AuditEventFilters(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditEvent.Action.values, required=False)
    target = serializers.CharField(max_length=64, required=False)


def audit_event_representation(event: AuditEvent) -> dict:
    return {
        "id": event.id,
        "action": event.action,
        "actor": None if event.actor_id is None else {"id": str(event.actor_id), "email": event.actor_email},
        "target": {"type": event.target_type, "id": event.target_id},
        "before": event.before,
        "after": event.after,
        "created_at": event.created_at.isoformat(),
    }
