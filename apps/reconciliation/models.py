"""Reconciliation: a card or bank statement imported line by line and matched to the organization's spends.

A statement source says how to read one issuer's files (the CSV column mapping, saved once); an import is
one file, refused if the same bytes were imported before; its lines hold what the statement says. A match
pairs one line with one ledger Transaction: each side is in at most one match (the database's unique keys),
so no spend is reconciled twice. Suggestions are not stored: apps/reconciliation/matching.py works them
out from the current state whenever they are shown.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class StatementSource(models.Model):
    class Kind(models.TextChoices):
        CARD = "card", "Card statement"
        BANK = "bank", "Bank statement"

    class SignConvention(models.TextChoices):
        # One amount column: how a charge (money out) is written in it.
        CHARGES_POSITIVE = "charges_positive", "Charges are positive"
        CHARGES_NEGATIVE = "charges_negative", "Charges are negative"

    class DecimalSeparator(models.TextChoices):
        POINT = ".", "Point (1,234.56)"
        COMMA = ",", "Comma (1.234,56)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=4, choices=Kind.choices)
    currency = models.CharField(max_length=3, help_text="The currency of the statement's amounts.")
    # The CSV column mapping: header names in the file. Either `amount_column`, or both debit and credit columns.
    date_column = models.CharField(max_length=100)
    amount_column = models.CharField(max_length=100, blank=True, default="")
    debit_column = models.CharField(max_length=100, blank=True, default="", help_text="Charges, as positive numbers.")
    credit_column = models.CharField(max_length=100, blank=True, default="", help_text="Refunds and payments.")
    description_column = models.CharField(max_length=100, help_text="The merchant or payee as the issuer writes it.")
    reference_column = models.CharField(max_length=100, blank=True, default="")
    external_id_column = models.CharField(
        max_length=100, blank=True, default="", help_text="The issuer's unique id of a line, if the file has one."
    )
    date_format = models.CharField(max_length=32, default="%Y-%m-%d", help_text="strptime format, e.g. %d/%m/%Y.")
    decimal_separator = models.CharField(max_length=1, choices=DecimalSeparator.choices, default=".")
    sign_convention = models.CharField(
        max_length=16, choices=SignConvention.choices, default=SignConvention.CHARGES_POSITIVE
    )
    delimiter = models.CharField(max_length=1, default=",")
    date_window_days = models.PositiveSmallIntegerField(
        default=3, help_text="How many days a statement line's date may be from its spend's."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="statement_source_name_per_org"),
            models.CheckConstraint(
                condition=(~Q(amount_column="") & Q(debit_column="", credit_column=""))
                | (Q(amount_column="") & ~Q(debit_column="") & ~Q(credit_column="")),
                name="statement_source_amount_or_debit_credit",
            ),
            models.CheckConstraint(condition=Q(date_window_days__lte=31), name="statement_source_window_at_most_31"),
        ]

    def __str__(self) -> str:
        return self.name


class StatementImport(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        OFX = "ofx", "OFX"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    source = models.ForeignKey(StatementSource, on_delete=models.PROTECT, related_name="imports", db_constraint=False)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=3, choices=Format.choices)
    # The file's SHA-256: the same file is imported once per organization.
    sha256 = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    first_day = models.DateField()
    last_day = models.DateField()
    imported_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sha256"], name="statement_import_file_once_per_org"),
            models.CheckConstraint(condition=Q(first_day__lte=models.F("last_day")), name="statement_import_days"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.first_day} to {self.last_day})"


class StatementLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    # Denormalised from the import: an issuer's line id is unique per source.
    source = models.ForeignKey(StatementSource, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    position = models.PositiveIntegerField(help_text="The line's row in the file (CSV: counting the header as 1).")
    posted_on = models.DateField()
    # A charge (money out) is positive, a refund or payment negative; minor units of `currency`.
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=255)
    reference = models.CharField(max_length=100, blank=True, default="")
    external_id = models.CharField(max_length=255, blank=True, default="", help_text="OFX FITID or the CSV's id.")

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["statement_import", "position"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="statement_line_amount_not_zero"),
            models.UniqueConstraint(
                fields=["statement_import", "position", "organization"], name="statement_line_position_per_import"
            ),
            models.UniqueConstraint(
                fields=["source", "external_id", "organization"],
                condition=~Q(external_id=""),
                name="statement_line_external_id_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.posted_on} {self.description} {self.amount_minor} {self.currency}"


class StatementMatch(models.Model):
    class How(models.TextChoices):
        # Matched at import: the line's unique best candidate, above the threshold (matching.py).
        AUTOMATIC = "automatic", "Automatic"
        # A person confirmed it (a suggestion, or a pair they chose).
        CONFIRMED = "confirmed", "Confirmed"
        # The spend was created from this unmatched line.
        CREATED = "created", "Spend created from the line"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # One line, one spend: the keys that keep a spend from being reconciled twice.
    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT, related_name="match", db_constraint=False)
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="statement_match", db_constraint=False
    )
    how = models.CharField(max_length=9, choices=How.choices)
    score = models.PositiveSmallIntegerField(help_text="0 to 100, as matching.py scored the pair.")
    # None for an automatic match (the import's `imported_by` started it).
    matched_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    matched_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["line"]
        verbose_name_plural = "statement matches"
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="statement_match_score_at_most_100"),
            models.CheckConstraint(
                condition=Q(how="automatic", matched_by__isnull=True)
                | (~Q(how="automatic") & Q(matched_by__isnull=False)),
                name="statement_match_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} = {self.transaction_id} ({self.how})"
