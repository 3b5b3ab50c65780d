"""Spend rules per organization, and the numbered versions of the policy they make.

A rule is edited; a version is never changed: every change of a rule writes the next version with
a snapshot of the rules then in force, and a settled spend records the version it was decided on.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class RuleKind(models.TextChoices):
    BLOCKED_CATEGORY = "blocked_category", "Blocked category"
    BLOCKED_MERCHANT = "blocked_merchant", "Blocked merchant"
    EMPLOYEE_LIMIT = "employee_limit", "Employee limit"
    CATEGORY_LIMIT = "category_limit", "Department category limit"
    ALLOWED_HOURS = "allowed_hours", "Allowed hours"
    DESCRIPTION_REQUIRED_ABOVE = "description_required_above", "Description required"
    RECEIPT_REQUIRED_ABOVE = "receipt_required_above", "Receipt required"


class LimitPeriod(models.TextChoices):
    SPEND = "spend", "A spend"
    DAY = "day", "A day"
    MONTH = "month", "A month"


@dataclass(frozen=True)
class KindFields:
    """The fields (as the API names them) a kind of rule must have, and those it may have; it has no others."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()


KIND_FIELDS = {
    RuleKind.BLOCKED_CATEGORY: KindFields(frozenset({"category"})),
    RuleKind.BLOCKED_MERCHANT: KindFields(frozenset({"merchant"})),
    RuleKind.EMPLOYEE_LIMIT: KindFields(frozenset({"amount", "period"}), frozenset({"role", "employee"})),
    RuleKind.CATEGORY_LIMIT: KindFields(frozenset({"category", "department", "amount"})),
    RuleKind.ALLOWED_HOURS: KindFields(frozenset({"start", "end", "weekdays"})),
    RuleKind.DESCRIPTION_REQUIRED_ABOVE: KindFields(frozenset({"amount"})),
    RuleKind.RECEIPT_REQUIRED_ABOVE: KindFields(frozenset({"amount"})),
}

# Monday first, as datetime.weekday() counts.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_IN_A_DAY = 24 * 60


class SpendRule(models.Model):
    """One rule of an organization's spend policy. Which fields a rule uses depends on its kind
    (apps/controls/services.py checks them); the others stay empty."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    is_active = models.BooleanField(default=True)
    category = models.CharField(max_length=64, blank=True, default="")
    merchant = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="A merchant name, or a pattern where * stands for any characters and ? for one; any letter case.",
    )
    amount_minor = models.BigIntegerField(null=True, blank=True)
    period = models.CharField(max_length=5, choices=LimitPeriod.choices, blank=True, default="")
    department = models.ForeignKey(
        "tenancy.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True, default="", help_text="Empty for every role.")
    employee = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Allowed from this minute of the day (inclusive) until that one (exclusive), in the organization's timezone.
    from_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    until_minute = models.PositiveSmallIntegerField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__isnull=True) | Q(amount_minor__gt=0), name="spend_rule_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(from_minute__isnull=True)
                | Q(from_minute__lt=models.F("until_minute"), until_minute__lte=MINUTES_IN_A_DAY),
                name="spend_rule_hours_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def snapshot(self) -> dict[str, Any]:
        """The rule as a policy version keeps it (apps/controls/policy.py PolicyRule reads it back)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "kind": self.kind,
            "category": self.category,
            "merchant": self.merchant,
            "amount_minor": self.amount_minor,
            "period": self.period,
            "department_id": str(self.department_id) if self.department_id else None,
            "department_name": self.department.name if self.department_id else "",
            "role": self.role,
            "employee_id": str(self.employee_id) if self.employee_id else None,
            "employee_email": self.employee.email if self.employee_id else "",
            "from_minute": self.from_minute,
            "until_minute": self.until_minute,
            "weekdays": list(self.weekdays),
        }


class SpendPolicyVersion(models.Model):
    """The organization's policy as one change left it: `rules` holds the rules then in force.

    Append-only: the application's database role may not UPDATE or DELETE it (ledgerx/db_roles.py).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField(help_text="1, 2, 3, ... within the organization.")
    rules = models.JSONField(help_text="The active rules, as apps/controls/policy.py reads them.")
    change = models.CharField(max_length=300, help_text="What changed, in words.")
    # None when the platform itself made the change (a management command, the bench).
    changed_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="spend_policy_version_per_organization"),
        ]

    def __str__(self) -> str:
        return f"spend policy version {self.number}"


class SpendTally(models.Model):
    """What the policy limits count, kept as a running sum: the spend posted or held for approval
    per employee, department, category and local day (the organization's timezone).

    Settlement reads these few rows instead of summing the month's spends, and adds what it posts and
    holds; a rejected hold and a reversal take theirs back. apps/controls/services.py is their one
    writer, and every caller holds the organization's settlement lock.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+", db_index=False)
    employee = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+", db_index=False)
    department = models.ForeignKey("tenancy.Department", on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.CharField(max_length=64)
    day = models.DateField()
    month = models.DateField(help_text="The budget month of the day's spends.")
    amount_minor = models.BigIntegerField()

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "employee", "day", "department", "category"], name="spend_tally_key"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="spend_tally_not_negative"),
        ]
        indexes = [models.Index(fields=["organization", "category", "month"], name="spend_tally_category_month")]

    def __str__(self) -> str:
        return f"{self.amount_minor} on {self.day}"
