from rest_framework import serializers

from ledgerx.fields import QueryFilters

from .models import AuditEvent


class AuditEventFilters(QueryFilters):
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


# The shape of the representation above, for the OpenAPI schema.


class _ActorRef(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class _TargetRef(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class AuditEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices)
    actor = _ActorRef(allow_null=True)
    target = _TargetRef()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()
