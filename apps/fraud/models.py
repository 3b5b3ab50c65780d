"""Fraud state lives here and in Redis, never in a worker's memory, so any worker gives the same answer."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


def default_blocked_categories() -> list[str]:
    return ["gambling", "cash_advance", "crypto"]


class Rule(models.TextChoices):
    AMOUNT_OUTLIER_EMPLOYEE = "amount_outlier_employee", "Amount unusual for the employee"
    AMOUNT_OUTLIER_DEPARTMENT_CATEGORY = (
        "amount_outlier_department_category",
        "Amount unusual for department x category",
    )
    VELOCITY_COUNT = "velocity_count", "Too many spends in a short window"
    VELOCITY_AMOUNT = "velocity_amount", "Too much spent in a short window"
    DUPLICATE_CHARGE = "duplicate_charge", "Duplicate charge"
    STRUCTURING = "structuring", "Amounts just under a threshold"
    UNUSUAL_HOURS = "unusual_hours", "Spend at unusual hours"
    BLOCKED_CATEGORY = "blocked_category", "Blocked merchant category"


class OutlierMethod(models.TextChoices):
    ZSCORE = "zscore", "z-score (running mean and deviation, Welford)"
    ROBUST = "robust", "robust z-score (median and MAD of recent spends)"


class FraudSettings(models.Model):
    """One organization's thresholds. An organization without a row uses the field defaults."""

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, primary_key=True, related_name="fraud_settings"
    )
    outlier_method = models.CharField(max_length=10, choices=OutlierMethod.choices, default=OutlierMethod.ZSCORE)
    outlier_threshold = models.FloatField(
        default=3.0, validators=[MinValueValidator(1.0)], help_text="Flag when |z| is above this many deviations."
    )
    outlier_min_history = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(2)], help_text="Spends a history needs before it is used."
    )
    robust_history_size = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(10)], help_text="Recent spends the robust method looks at."
    )
    velocity_count_limit = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    velocity_count_window_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(1)])
    velocity_amount_limit_minor = models.BigIntegerField(
        default=250_000, validators=[MinValueValidator(1)], help_text="In minor units (cents)."
    )
    velocity_amount_window_seconds = models.PositiveIntegerField(default=600, validators=[MinValueValidator(1)])
    duplicate_window_seconds = models.PositiveIntegerField(default=300, validators=[MinValueValidator(1)])
    structuring_threshold_minor = models.BigIntegerField(
        default=500_000, validators=[MinValueValidator(1)], help_text="The threshold people stay under (minor units)."
    )
    structuring_margin_percent = models.PositiveIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="How far under counts as just under.",
    )
    structuring_min_count = models.PositiveIntegerField(default=3, validators=[MinValueValidator(2)])
    structuring_window_hours = models.PositiveIntegerField(default=168, validators=[MinValueValidator(1)])
    unusual_hours_gap_minutes = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(15), MaxValueValidator(720)],
        help_text="Flag a spend this far, on the organization's clock, from the time of day of every recent spend "
        "of the employee.",
    )
    unusual_hours_min_history = models.PositiveIntegerField(
        default=40,
        validators=[MinValueValidator(10)],
        help_text="Spends an employee needs before their hours are judged: the hours of a whole day take longer "
        "to learn than a usual amount.",
    )
    blocked_categories = ArrayField(models.CharField(max_length=64), default=default_blocked_categories, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = "fraud settings"
        verbose_name_plural = "fraud settings"

    def __str__(self) -> str:
        return f"Fraud settings of {self.organization}"


class SpendStatistic(models.Model):
    """Running statistics (Welford: count, mean, M2) of the natural log of spend amounts in one history.

    Logs, because amounts are heavy-tailed (roughly lognormal): on the raw scale a normal but large
    spend would sit several deviations out, on the log scale it does not.
    """

    class Scope(models.TextChoices):
        EMPLOYEE = "employee", "Employee"
        DEPARTMENT_CATEGORY = "department_category", "Department x category"

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=20, choices=Scope.choices)
    subject = models.CharField(max_length=120, help_text="Employee id, or department id:category.")
    count = models.BigIntegerField(default=0)
    mean = models.FloatField(default=0.0)
    m2 = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scope", "subject"], name="spend_statistic_one_per_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.subject}: n={self.count}"


class TransactionRisk(models.Model):
    """The record that a spend was scored: at most one per spend, written with its alerts and statistics."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="fraud_risk", db_constraint=False
    )
    scores = models.JSONField(default=dict, help_text="What each detector measured, flagged or not.")
    scored_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "transaction"], name="transaction_risk_one_per_spend"),
        ]

    def __str__(self) -> str:
        return f"Risk scores of {self.transaction}"


class FraudAlert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        LEGITIMATE = "legitimate", "Legitimate"
        FRAUD = "fraud", "Fraud"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    transaction = models.ForeignKey(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="fraud_alerts", db_constraint=False
    )
    rule = models.CharField(max_length=40, choices=Rule.choices)
    score = models.FloatField()
    detail = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True, default="")
    note = models.TextField(blank=True, default="")
    resolved_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "transaction", "rule"], name="fraud_alert_one_per_rule"),
            models.CheckConstraint(
                condition=(Q(status="open") & Q(resolution="") & Q(resolved_at__isnull=True))
                | (Q(status="resolved") & ~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="fraud_alert_resolution_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"], name="fraud_alert_org_status")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} on {self.transaction}"
