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
from ledgerx.money import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS

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
        "ledger.GLAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
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
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="bank_changes", db_constraint=False)
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
                fields=["vendor", "organization"], condition=Q(status="pending"), name="vendor_bank_change_one_pending"
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
    # The schedule (beat: payment_runs.scheduled_runs_draft) drafts a run of the bills due within this many
    # days whenever the account has no draft open, for a person to review and release; None: by hand only.
    scheduled_due_within_days = models.PositiveSmallIntegerField(null=True, blank=True)
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


class Bill(models.Model):
    """A vendor's invoice: a ledger Transaction of kind `bill` (amount, currency, department, status), with
    what only a bill has. Its invoice file is a receipt of its transaction (apps/receipts)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="bill", db_constraint=False
    )
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="bills", db_constraint=False)
    invoice_number = models.CharField(max_length=64)
    # The number as duplicates are found by: letters and digits only, in upper case ("inv-001 " is "INV001").
    invoice_key = models.CharField(max_length=64)
    bill_date = models.DateField()
    due_date = models.DateField()
    # As the vendor billed it, in its currency: what the bank file pays (the transaction holds the base amount).
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "created_at"]
        indexes = [models.Index(fields=["vendor", "invoice_key"], name="bill_vendor_invoice")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="bill_amount_positive"),
            models.CheckConstraint(condition=Q(due_date__gte=F("bill_date")), name="bill_due_after_dated"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} of {self.vendor_id}"


class BillLine(models.Model):
    """One GL line of a bill: the part of its amount (as billed, in its currency) that is booked to one expense
    account of the organization's chart. A bill's lines sum to its amount exactly (bills.bill_submit); on
    approval the accrual debits one expense line per bill line (apps/ledger expense_split_register)."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="lines", db_constraint=False)
    position = models.PositiveSmallIntegerField()
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    gl_account = models.ForeignKey("ledger.GLAccount", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    amount_minor = models.BigIntegerField()
    description = models.CharField(max_length=200, blank=True, default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["bill", "position"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "position", "organization"], name="bill_line_position_per_bill"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="bill_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"line {self.position} of {self.bill_id}"


class ReturnFile(models.Model):
    """A file of payments the bank returned or rejected, as uploaded: kept byte for byte with its SHA-256 (the
    same file is taken once), with what each of its entries came to (payment_returns.return_file_import)."""

    class Format(models.TextChoices):
        NACHA = "nacha", "NACHA returns (addenda 99)"
        PAIN_002 = "pain.002", "ISO 20022 pain.002 payment status report"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=Format.choices)
    file_name = models.CharField(max_length=200)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # One item per entry of the file: its reference (trace number or end-to-end id), reason and outcome
    # ("returned", "already_returned", "unknown"); the payment line it reopened, if any.
    outcomes = models.JSONField(default=list)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="return_file_once_per_org"),
        ]

    def __str__(self) -> str:
        return self.file_name


class PaymentRun(models.Model):
    """Approved bills paid together from one paying account, in its currency, by one bank file."""

    class Status(models.TextChoices):
        # Gathered for review, no money moved: its bills are reserved for it until released or discarded.
        DRAFT = "draft", "Draft"
        # Paid in the ledger (payable cleared against the bank) and its bank file written, once.
        RELEASED = "released", "Released"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    paying_account = models.ForeignKey(
        PayingAccount, on_delete=models.PROTECT, related_name="runs", db_constraint=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField(max_length=35, help_text="The file's message id, and what each payment refers to.")
    currency = models.CharField(max_length=3)
    total_minor = models.BigIntegerField()
    execution_date = models.DateField()
    due_until = models.DateField(help_text="The bills due by this day were gathered.")
    created_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    # The bank file, written once at release and kept byte for byte with its SHA-256: never regenerated.
    file_name = models.CharField(max_length=80, blank=True, default="")
    file_content = models.BinaryField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    # The rate its currency was converted into the base currency at, when it is not the base (apps/fx, read at
    # release): what each payment cost in the books.
    fx_rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES, null=True, blank=True)
    fx_rate_date = models.DateField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="payment_run_reference_per_org"),
            models.CheckConstraint(condition=Q(total_minor__gt=0), name="payment_run_total_positive"),
            models.CheckConstraint(
                condition=Q(status="draft", released_at__isnull=True, file_sha256="")
                | (Q(status="released", released_at__isnull=False, file_content__isnull=False) & ~Q(file_sha256="")),
                name="payment_run_released_with_file",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PaymentLine(models.Model):
    """One bill paid in a run, to the vendor's details as they were approved when the run was drafted."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    run = models.ForeignKey(PaymentRun, on_delete=models.CASCADE, related_name="lines", db_constraint=False)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payment_lines", db_constraint=False)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    # The vendor's name and approved payment details (their version) as paid: the file never changes after.
    vendor_name = models.CharField(max_length=140)
    bank_details_version = models.PositiveIntegerField()
    rail = models.CharField(max_length=4, choices=RAIL_CHOICES)
    iban = models.CharField(max_length=34, blank=True, default="")
    bic = models.CharField(max_length=11, blank=True, default="")
    routing_number = models.CharField(max_length=9, blank=True, default="")
    account_number = models.CharField(max_length=17, blank=True, default="")
    account_type = models.CharField(max_length=8, blank=True, default="")
    # Paid in the bill's currency; cleared from accounts payable at the bill's base amount (at its approval),
    # and out of the bank at what it cost in the base currency at the run's rate: the difference is realised
    # FX gain/loss. The same in a run in the base currency.
    amount_minor = models.BigIntegerField()
    base_amount_minor = models.BigIntegerField()
    paid_base_amount_minor = models.BigIntegerField()
    end_to_end_id = models.CharField(max_length=35)
    # ACH: the entry's trace number in the NACHA file (the originating bank's 8 digits and a sequence running
    # through the organization's ACH payments), which the bank's return entries name.
    trace_number = models.CharField(max_length=15, blank=True, default="")
    returned_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(max_length=200, blank=True, default="")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    return_file = models.ForeignKey(
        ReturnFile, null=True, blank=True, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            # A bill is on one line that stands at a time: another only once its payment came back.
            models.UniqueConstraint(
                fields=["bill", "organization"],
                condition=Q(returned_at__isnull=True),
                name="payment_line_one_standing_per_bill",
            ),
            models.UniqueConstraint(fields=["organization", "end_to_end_id"], name="payment_line_end_to_end_per_org"),
            models.UniqueConstraint(
                fields=["organization", "trace_number"],
                condition=~Q(trace_number=""),
                name="payment_line_trace_number_per_org",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0, base_amount_minor__gt=0, paid_base_amount_minor__gt=0),
                name="payment_line_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_minor} to {self.vendor_name} for {self.bill_id}"
