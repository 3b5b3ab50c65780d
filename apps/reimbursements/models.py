"""Payout batches: approved reimbursement claims gathered to be paid to their employees.

A claim is a ledger Transaction of kind `reimbursement` (apps/ledger); what is owed sits on its
employee's payable account. A batch's lines name the claims it pays: a claim is on at most one line
(the database's unique key), and a batch is released once, so no claim is ever paid twice.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.ledger.models import Transaction
from apps.tenancy.scoping import TenantQuerySet


class Claim(Transaction):
    """A reimbursement claim as the back office lists it: a ledger Transaction of kind `reimbursement`."""

    class Meta:
        proxy = True
        verbose_name = "reimbursement claim"


class PayoutBatch(models.Model):
    class Status(models.TextChoices):
        # Gathered, no money moved: its claims are reserved for it until it is released or discarded.
        DRAFT = "draft", "Draft"
        # The payouts are in the ledger (each payable cleared into payout clearing) and the bank file may be sent.
        RELEASED = "released", "Released"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField(max_length=40, help_text="What the bank shows each payment with.")
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    created_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    # The SHA-256 of the batch's CSV export, fixed at release: what was sent can be checked against it.
    export_sha256 = models.CharField(max_length=64, blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "payout batches"
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="payout_batch_reference_per_org"),
            models.CheckConstraint(condition=Q(total_minor__gt=0), name="payout_batch_total_positive"),
            models.CheckConstraint(
                condition=Q(status="draft", released_at__isnull=True, released_by__isnull=True)
                | Q(status="released", released_at__isnull=False, released_by__isnull=False),
                name="payout_batch_released_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PayoutLine(models.Model):
    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    batch = models.ForeignKey(PayoutBatch, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    # One line per claim, ever: the key that keeps a claim from being paid twice (paired with organization_id,
    # ledgerx/tenant_keys.py).
    claim = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="payout_line", db_constraint=False
    )
    employee = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    # As it was when the line was made: the export of a released batch never changes.
    employee_email = models.EmailField()
    amount_minor = models.BigIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} to {self.employee_id} for {self.claim_id}"
