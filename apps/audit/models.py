import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet

# The organization id of what no organization is involved in (system admins, platform settings): the
# platform's audit events, and its chain of changes.
PLATFORM_CHAIN = uuid.UUID(int=0)


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
        RETENTION_YEAR_ARCHIVED = "retention.year_archived", "Closed year archived"
        STATEMENT_IMPORTED = "statement.imported", "Statement imported"
        STATEMENT_MATCH_CONFIRMED = "statement_match.confirmed", "Statement line match confirmed"
        STATEMENT_MATCH_REMOVED = "statement_match.removed", "Statement line unmatched"
        STATEMENT_LINE_SPEND_CREATED = "statement_line.spend_created", "Spend created from a statement line"
        MONTH_CLOSED = "ledger.month_closed", "Month closed"
        MONTH_REOPENED = "ledger.month_reopened", "Month reopened"
        MFA_DEVICE_ADDED = "mfa.device_added", "Second factor added"
        MFA_DEVICE_REMOVED = "mfa.device_removed", "Second factor removed"
        MFA_RECOVERY_CODES_GENERATED = "mfa.recovery_codes_generated", "Recovery codes generated"
        MFA_RECOVERY_CODE_USED = "mfa.recovery_code_used", "Recovery code used"
        MFA_RESET = "mfa.reset", "Second factors reset"
        USER_PROVISIONED = "user.provisioned", "User provisioned by the identity provider"
        USER_EMAIL_CHANGED = "user.email_changed", "User's email changed"
        USER_DEPARTMENT_CHANGED = "user.department_changed", "User's department changed"
        USER_DEACTIVATED = "user.deactivated", "User deactivated"
        USER_REACTIVATED = "user.reactivated", "User reactivated"
        SCIM_USER_ATTRIBUTES_SET = "scim.user_attributes_set", "User's SCIM attributes set"
        SCIM_TOKEN_ISSUED = "scim.token_issued", "SCIM token issued"
        SCIM_TOKEN_REVOKED = "scim.token_revoked", "SCIM token revoked"
        SCIM_GROUP_CREATED = "scim.group_created", "SCIM group created"
        SCIM_GROUP_UPDATED = "scim.group_updated", "SCIM group updated"
        SCIM_GROUP_DELETED = "scim.group_deleted", "SCIM group deleted"
        SCIM_GROUP_MAPPING_SET = "scim.group_mapping_set", "SCIM group mapping set"
        SCIM_GROUP_MAPPING_REMOVED = "scim.group_mapping_removed", "SCIM group mapping removed"
        SSO_CONFIGURED = "sso.configured", "Single sign-on configured"
        SSO_BREAK_GLASS_SIGN_IN = "sso.break_glass_sign_in", "Password sign-in while SSO is required"
        INVITATION_SENT = "invitation.sent", "Invitation sent"
        INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
        INVITATION_ACCEPTED = "invitation.accepted", "Invitation accepted"
        APPROVAL_POLICY_CREATED = "approval_policy.created", "Approval policy created"
        APPROVAL_POLICY_DELETED = "approval_policy.deleted", "Approval policy deleted"
        WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created", "Webhook endpoint created"
        WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated", "Webhook endpoint updated"
        WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted", "Webhook endpoint deleted"
        VENDOR_CREATED = "vendor.created", "Vendor created"
        VENDOR_UPDATED = "vendor.updated", "Vendor updated"
        VENDOR_BANK_CHANGE_REQUESTED = "vendor.bank_change_requested", "Vendor payment details change requested"
        VENDOR_BANK_CHANGE_APPROVED = "vendor.bank_change_approved", "Vendor payment details change approved"
        VENDOR_BANK_CHANGE_REJECTED = "vendor.bank_change_rejected", "Vendor payment details change rejected"
        PAYING_ACCOUNT_ADDED = "paying_account.added", "Paying bank account added"
        PAYING_ACCOUNT_SCHEDULE_SET = "paying_account.schedule_set", "Payment run schedule set"
        PAYMENT_RUN_CREATED = "payment_run.created", "Payment run drafted"
        PAYMENT_RUN_RELEASED = "payment_run.released", "Payment run released"
        PAYMENT_RUN_DISCARDED = "payment_run.discarded", "Payment run discarded"
        PAYMENT_RETURNED = "payment.returned", "Vendor payment returned"

    id = models.BigAutoField(primary_key=True)
    # PLATFORM_CHAIN for a platform event (a system admin creating another system admin), as for a
    # platform change; hence not a foreign key, as AuditChange's is not (migration 0021).
    organization_id = models.UUIDField()
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
            models.Index(fields=["organization_id", "-created_at", "-id"], name="audit_org_newest"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"


class AuditChange(models.Model):
    """One row inserted, updated or deleted in an audited table, written by the database's own
    triggers (migration 0007) so that no path can skip it: who (`actor`), from where (`origin`),
    in which request, task or command (`context_id`), when, and the values before and after.

    An UPDATE records only the columns it changed; a secret column is recorded as "[secret]", so
    that a change of it shows without its value. Append-only: the database refuses UPDATE, DELETE
    and TRUNCATE. Semantic back-office events (AuditEvent) are captured here too, as INSERTs.
    """

    class Operation(models.TextChoices):
        INSERT = "INSERT"
        UPDATE = "UPDATE"
        DELETE = "DELETE"

    id = models.BigAutoField(primary_key=True)
    # Not a foreign key: the change must be writable whatever happens to its row, and a platform
    # change belongs to PLATFORM_CHAIN. The hash chain is per organization.
    organization_id = models.UUIDField()
    table_name = models.CharField(max_length=63)
    row_id = models.CharField(max_length=64)
    operation = models.CharField(max_length=6, choices=Operation.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # "user:<email>", "task:<name>", "command:<name> --as <email>", or "database:<role>/<application>"
    # for a change made with no context (raw SQL, a console).
    actor = models.CharField(max_length=300)
    actor_user_id = models.UUIDField(null=True, blank=True)
    # The client's address and user agent for a request, the host and pid for a task or command.
    origin = models.JSONField(default=dict, blank=True)
    context_id = models.CharField(max_length=64, blank=True, default="", help_text="Request or task id.")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["table_name", "row_id"], name="audit_change_row"),
            models.Index(fields=["organization_id", "id"], name="audit_change_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.table_name} {self.row_id} by {self.actor}"


class AuditChangeSeal(models.Model):
    """A change's link in its organization's hash chain (ledgerx/hash_chain.py), written by the sealer.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    organization_id = models.UUIDField()
    sequence = models.BigIntegerField(help_text="1, 2, 3, ... within the organization.")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    change = models.OneToOneField(AuditChange, on_delete=models.PROTECT, related_name="seal", db_constraint=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "sequence"], name="audit_seal_sequence_per_chain"),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="audit_seal_sequence_positive"),
        ]

    def __str__(self) -> str:
        return f"seal {self.sequence} of change {self.change_id}"


class AuditCheckpoint(models.Model):
    """A signed statement of an organization's audit chain head (ledgerx/chain_checkpoints.py).

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    organization_id = models.UUIDField()
    sequence = models.BigIntegerField(help_text="The last sealed link it covers.")
    head_hash = models.CharField(max_length=64, help_text="The hash of link `sequence`.")
    entry_count = models.BigIntegerField(help_text="How many links the chain had up to `sequence`.")
    created_at = models.DateTimeField(default=timezone.now)
    previous_signature = models.CharField(max_length=64, help_text="The signature of the checkpoint before it.")
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["organization_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "sequence"], name="audit_checkpoint_sequence_per_chain"),
        ]

    def __str__(self) -> str:
        return f"audit checkpoint at link {self.sequence}"
