"""Receipts attached to spends, and the reminders sent for spends that still lack one.

A spend may have several receipts (a hotel folio and the card slip). The files live in the
"receipts" storage (STORAGES), named by organization and receipt id, never by what the client sent;
they are served only through the authorised views of apps/receipts/api.py.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.ledger.models import Transaction
from apps.tenancy.scoping import TenantQuerySet


class ReadingStatus(models.TextChoices):
    PENDING = "pending", "Not read yet"
    READ = "read", "Read"
    # Tesseract missing or failing on the worker, or the file cannot be drawn: nothing was read.
    UNAVAILABLE = "unavailable", "Could not be read"


class Receipt(models.Model):
    class Status(models.TextChoices):
        # The file is stored and checked; its thumbnail is being made.
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        # No thumbnail could be made; the file itself is kept and served.
        FAILED = "failed", "No preview"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.ForeignKey(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="receipts", db_constraint=False
    )
    uploaded_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=200, help_text="Its name in the receipts storage.")
    original_name = models.CharField(max_length=255, blank=True, default="", help_text="As uploaded; for people.")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(help_text="Bytes, as stored (an image re-encoded).")
    sha256 = models.CharField(max_length=64, help_text="Of the stored bytes.")
    thumbnail_name = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    failure = models.TextField(blank=True, default="", help_text="Why no thumbnail could be made.")
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What Tesseract read on it (apps/receipts/reading.py), after the thumbnail; each None when not found.
    reading_status = models.CharField(max_length=12, choices=ReadingStatus.choices, default=ReadingStatus.PENDING)
    read_total = models.CharField(max_length=32, blank=True, default="", help_text="A decimal, as read.")
    read_currency = models.CharField(max_length=3, blank=True, default="")
    read_date = models.DateField(null=True, blank=True)
    read_merchant = models.CharField(max_length=200, blank=True, default="")
    # Where the reading disagrees with its spend: [{"code", "message"}], for a reviewer; never blocks anything.
    mismatches = models.JSONField(default=list, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # With organization_id, for distribution (ledgerx/tenant_keys.py): the spend determines it.
            models.UniqueConstraint(
                fields=["transaction", "sha256", "organization"], name="receipt_file_once_per_spend"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="receipt_not_empty"),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="processing"), name="receipt_processing"),
        ]

    def __str__(self) -> str:
        return self.original_name or f"receipt {self.id}"


class ReceiptReminder(models.Model):
    """When the spender of a spend missing its receipt was last reminded, so a run reminds each spend
    at most once every RECEIPT_REMINDER_EVERY_HOURS."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    last_sent_at = models.DateTimeField()
    sent_count = models.PositiveIntegerField(default=1)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return f"reminder {self.sent_count} of {self.transaction_id}"


class SpendMissingReceipt(Transaction):
    """The back office's list of posted spends missing the receipt their policy asks for
    (selectors.spends_missing_receipts); no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "spend missing a receipt"
        verbose_name_plural = "spends missing a receipt"
