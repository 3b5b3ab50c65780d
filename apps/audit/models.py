from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class AuditEvent(models.Model):
    """Who did what in the back office. Append-only: the database refuses UPDATE, DELETE and TRUNCATE."""

    class Action(models.TextChoices):
        BUDGET_LIMIT_SET = "budget.limit_set", "Budget limit set"
        TRANSACTION_REVERSED = "transaction.reversed", "Transaction reversed"
        FRAUD_ALERT_RESOLVED = "fraud_alert.resolved", "Fraud alert resolved"
        USER_CREATED = "user.created", "User created"
        USER_ROLE_CHANGED = "user.role_changed", "User role changed"
        USER_FROZEN = "user.frozen", "User's spending frozen"
        USER_UNFROZEN = "user.unfrozen", "User's spending unfrozen"
        DEPARTMENT_CREATED = "department.created", "Department created"
        DEPARTMENT_UPDATED = "department.updated", "Department updated"
        DEPARTMENT_HEAD_SET = "department.head_set", "Department head set"
        SPEND_RULE_CREATED = "spend_rule.created", "Spend rule created"
        SPEND_RULE_UPDATED = "spend_rule.updated", "Spend rule updated"
        SPEND_RULE_DELETED = "spend_rule.deleted", "Spend rule deleted"
        ACCESS_REVIEW_SIGNED_OFF = "access_review.signed_off", "Access review signed off"

    id = models.BigAutoField(primary_key=True)
    # None for platform events (a system admin creating another system admin).
    organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # None when the platform itself acted (seeding, a management command without --as).
    actor = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Kept as written at the time, so the log reads the same after a user changes.
    actor_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64, choices=Action.choices)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_newest"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"
