import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet

# The most approval steps one policy may ask for.
MAX_LEVELS = 5


class ApproverKind(models.TextChoices):
    DEPARTMENT_HEAD = "department_head", "Department head"
    FINANCE_MANAGER = "finance_manager", "Finance manager"
    ORG_ADMIN = "org_admin", "Org admin"


class SpenderStep(models.TextChoices):
    """What a step does when nobody but the spender (or someone who signed an earlier step) could sign it."""

    SKIP = "skip", "Skip to the next step"
    ESCALATE = "escalate", "Escalate to finance"


class ApprovalPolicy(models.Model):
    """Spends of at least `min_amount_minor` (optionally of one department subtree or category)
    wait for each of `levels` to approve, in order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    min_amount_minor = models.BigIntegerField()
    department = models.ForeignKey(
        "tenancy.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Applies to this department and every department below it; empty for all.",
    )
    category = models.CharField(max_length=64, blank=True, default="", help_text="Empty for every category.")
    levels = models.JSONField(help_text='Ordered approver kinds, e.g. ["department_head", "finance_manager"].')
    spender_step = models.CharField(
        max_length=10,
        choices=SpenderStep.choices,
        default=SpenderStep.ESCALATE,
        help_text="A step only the spender could sign: skipped (the last one escalates), or escalated to finance.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["min_amount_minor"]
        verbose_name_plural = "approval policies"
        constraints = [
            models.CheckConstraint(condition=Q(min_amount_minor__gt=0), name="approval_policy_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="approval", db_constraint=False
    )
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    policy = models.ForeignKey(
        ApprovalPolicy, null=True, on_delete=models.SET_NULL, related_name="requests", db_constraint=False
    )
    # The levels as the policy had them when the spend arrived: editing a policy never moves a request.
    levels = models.JSONField()
    current_level = models.PositiveSmallIntegerField(default=0)
    # Steps skipped or escalated because only the spender could sign them: [{"level", "action", "note"}].
    routing = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], condition=Q(status="pending"), name="approval_pending_expiry")]

    def __str__(self) -> str:
        return f"Approval of {self.transaction}"

    @property
    def waiting_for(self) -> str | None:
        """The approver kind the current step waits for; None once decided."""
        return self.levels[self.current_level] if self.status == self.Status.PENDING else None

    @property
    def waiting_step(self) -> str:
        """For people: "Step 2 of 2: finance manager" while pending, else an empty string."""
        if self.waiting_for is None:
            return ""
        return f"Step {self.current_level + 1} of {len(self.levels)}: {ApproverKind(self.waiting_for).label.lower()}"


class ApprovalDecision(models.Model):
    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    request = models.ForeignKey(
        ApprovalRequest, on_delete=models.PROTECT, related_name="decisions", db_constraint=False
    )
    level = models.PositiveSmallIntegerField()
    approver = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["level"]
        constraints = [
            # One outcome per step, and one signature per person, whatever the concurrency.
            models.UniqueConstraint(
                fields=["request", "level", "organization"], name="approval_one_decision_per_level"
            ),
            models.UniqueConstraint(
                fields=["request", "approver", "organization"], name="approval_one_level_per_approver"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} at level {self.level}"
