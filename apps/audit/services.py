from typing import Any

from django.db import connection, models

from apps.tenancy.models import Organization, User

from .models import PLATFORM_CHAIN, AuditEvent


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization: Organization | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one back-office event. Call it inside the transaction that makes the change, so both commit together.

    The organization defaults to the target's, then the actor's, then the platform's (PLATFORM_CHAIN). A
    change asked by something other than a person (an identity provider's SCIM client) has no actor and says
    who it was in `actor_label`, kept where a person's email is.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction that makes the change")
    if action not in AuditEvent.Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if organization is None:
        organization_id = (
            getattr(target, "organization_id", None) or getattr(actor, "organization_id", None) or PLATFORM_CHAIN
        )
    else:
        organization_id = organization.id
    return AuditEvent.objects.create(
        organization_id=organization_id,
        actor=actor,
        actor_email=actor.email if actor is not None else actor_label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
    )
