import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class EventType(models.TextChoices):
    TRANSACTION_POSTED = "transaction.posted"
    TRANSACTION_REJECTED = "transaction.rejected"
    TRANSACTION_REVERSED = "transaction.reversed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"
    FRAUD_ALERT_CREATED = "fraud.alert.created"
    BUDGET_THRESHOLD_CROSSED = "budget.threshold_crossed"
    REIMBURSEMENT_SUBMITTED = "reimbursement.submitted"
    REIMBURSEMENT_APPROVED = "reimbursement.approved"
    REIMBURSEMENT_REJECTED = "reimbursement.rejected"
    REIMBURSEMENT_PAID = "reimbursement.paid"
    PAYOUT_BATCH_RELEASED = "payout_batch.released"
    RECEIPT_MISSING = "receipt.missing"
    BILL_SUBMITTED = "bill.submitted"
    BILL_APPROVED = "bill.approved"
    BILL_REJECTED = "bill.rejected"
    BILL_PAID = "bill.paid"
    BILL_PAYMENT_RETURNED = "bill.payment_returned"
    PAYMENT_RUN_RELEASED = "payment_run.released"


class WebhookEndpoint(models.Model):
    """A receiver an org admin registered. The secret is shared with the receiver, so it is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    secret = models.CharField(max_length=100)
    event_types = ArrayField(models.CharField(max_length=40, choices=EventType.choices))
    is_active = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True, default="")
    consecutive_failures = models.PositiveIntegerField(default=0)
    # How long its recent attempts took (newest last, WEBHOOKS_SLOW_WINDOW of them) and their p95.
    recent_latencies_ms = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    latency_p95_ms = models.PositiveIntegerField(null=True, blank=True)
    # Since when its p95 is over WEBHOOKS_SLOW_P95_MS (null: it is not slow). A slow receiver is
    # throttled: its next attempt starts no earlier than next_send_at.
    slow_since = models.DateTimeField(null=True, blank=True)
    next_send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(event_types=[]), name="webhook_endpoint_has_event_types"),
        ]

    def __str__(self) -> str:
        return self.url


class OutboxEvent(models.Model):
    """An event written in the same database transaction as the change it describes. Its id is the event id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=40, choices=EventType.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # When the event was fanned out into deliveries, or written, if no active endpoint subscribed to its
    # type then (nothing to deliver); null means the sweep still owes it a dispatch.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True), name="outbox_undispatched"),
            # The outbox is appended in time order; BRIN finds the expired range for almost no write cost.
            BrinIndex(fields=["created_at"], name="outbox_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class Delivery(models.Model):
    """One event to one endpoint: its attempts so far and how the last one went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        # Raised or left waiting while its endpoint was disabled; sent, in order, once it is enabled.
        PAUSED = "paused", "Paused"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Keyed with the organization in the database (ledgerx/tenant_keys.py): a delivery is of its tenant's event
    # to its tenant's endpoint.
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # The attempt count at which retrying stops; a manual redelivery raises it by one.
    attempt_limit = models.PositiveIntegerField()
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # Pending: when the next attempt is due. Sending: when the running attempt was due. It orders an
    # endpoint's waiting deliveries.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The lease: until then a queued message or a running attempt holds the delivery, and the sweep
    # leaves it alone. Null or past: nothing holds it.
    attempting_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint", "organization"], name="delivery_one_per_event_and_endpoint"
            ),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_log_by_endpoint"),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["pending", "sending"]), name="delivery_due"
            ),
            # What the scheduler reads per tenant: each endpoint's waiting deliveries and the ones in flight.
            models.Index(
                fields=["organization", "endpoint", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id}"
