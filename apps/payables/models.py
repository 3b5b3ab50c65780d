"""Vendors and how they are paid.

A vendor's payment details are what its bills are paid to, so they change only with two people: one
requests a change (VendorBankChange), another approves it, and only then are they the vendor's. The
database holds the second person (`vendor_bank_change_second_person`). A vendor with no approved details,
or with a change waiting, is not paid.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet

from .bank_details import ACH, SEPA, BankDetails

RAIL_CHOICES = [(SEPA, "SEPA credit transfer"), (ACH, "ACH (NACHA)")]
ACCOUNT_TYPE_CHOICES = [("checking", "Checking"), ("savings", "Savings")]


class BankDetailsFields(models.Model):
    """The columns of a set of payment details (bank_details.BankDetails), checked before they are stored."""

    rail = models.CharField(max_length=4, choices=RAIL_CHOICES, blank=True, default="")
    iban = models.CharField(max_length=34, blank=True, default="")
    bic = models.CharField(max_length=11, blank=True, default="")
    routing_number = models.CharField(max_length=9, blank=True, default="")
    account_number = models.CharField(max_length=17, blank=True, default="")
    account_type = models.CharField(max_length=8, choices=ACCOUNT_TYPE_CHOICES, blank=True, default="")

    class Meta:
        abstract = True

    def bank_details(self) -> BankDetails | None:
        if not self.rail:
            return None
        return BankDetails(
            rail=self.rail,
            iban=self.iban,
            bic=self.bic,
            routing_number=self.routing_number,
            account_number=self.account_number,
            account_type=self.account_type,
        )


def _rail_fields_fit() -> Q:
    return (
        Q(rail="", iban="", bic="", routing_number="", account_number="")
        | (Q(rail=SEPA) & ~Q(iban="") & ~Q(bic="") & Q(routing_number="", account_number=""))
        | (Q(rail=ACH) & ~Q(routing_number="") & ~Q(account_number="") & Q(iban="", bic=""))
    )


class Vendor(BankDetailsFields):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    legal_name = models.CharField(max_length=140)
    contact_name = models.CharField(max_length=140, blank=True, default="")
    contact_email = models.EmailField(blank=True, default="")
    # Where its bills go unless a bill says otherwise.
    default_gl_account = models.ForeignKey(
        "ledger.GLAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    default_department = models.ForeignKey(
        "tenancy.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Counts the approved changes of its payment details: a payment line records the version it paid to.
    bank_details_version = models.PositiveIntegerField(default=0)
    bank_details_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["legal_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "legal_name"], name="vendor_legal_name_per_org"),
            models.CheckConstraint(condition=_rail_fields_fit(), name="vendor_bank_details_fit_rail"),
        ]

    def __str__(self) -> str:
        return self.legal_name


class VendorBankChange(BankDetailsFields):
    """A request to pay a vendor to other details; they become the vendor's when a second person approves."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="bank_changes")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor"], condition=Q(status="pending"), name="vendor_bank_change_one_pending"
            ),
            models.CheckConstraint(condition=~Q(rail="") & _rail_fields_fit(), name="vendor_bank_change_fits_rail"),
            # The two-person rule, held by the database too: whoever decides did not ask.
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False) & ~Q(decided_by=F("requested_by"))),
                name="vendor_bank_change_second_person",
            ),
        ]

    def __str__(self) -> str:
        return f"bank change of {self.vendor_id} ({self.status})"


class PayingAccount(BankDetailsFields):
    """One of the organization's own bank accounts that payment runs pay from, in one currency.

    SEPA accounts pay in EUR; ACH accounts in USD, with the company identification and the originating
    bank's routing number the NACHA file's headers carry.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=70, help_text="The account holder's name, as the bank file names the debtor.")
    currency = models.CharField(max_length=3)
    # NACHA: the company identification the bank assigned (10 characters) and its company name (16).
    ach_company_id = models.CharField(max_length=10, blank=True, default="")
    ach_company_name = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="paying_account_name_per_org"),
            models.CheckConstraint(condition=~Q(rail="") & _rail_fields_fit(), name="paying_account_fits_rail"),
            models.CheckConstraint(
                condition=Q(rail=SEPA, currency="EUR")
                | Q(rail=ACH, currency="USD") & ~Q(ach_company_id="") & ~Q(ach_company_name=""),
                name="paying_account_rail_currency",
            ),
        ]

    def __str__(self) -> str:
        return self.name
