from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class BudgetPeriod(models.Model):
    """One department's budget for one calendar month in the organization's timezone.

    `spent_minor` and `held_minor` count the department's own spend and holds and those of every
    department below it. `spent_minor` is net of reversals, so it can go below zero: a month that takes
    the reversal of a spend from a closed month (whose budget no longer changes) is credited with it.
    """

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    department = models.ForeignKey(
        "tenancy.Department", on_delete=models.PROTECT, related_name="budget_periods", db_constraint=False
    )
    month = models.DateField(help_text="The first day of the month.")
    limit_minor = models.BigIntegerField()
    spent_minor = models.BigIntegerField(default=0)
    # Reserved by spends awaiting approval: not spent yet, but no longer available.
    held_minor = models.BigIntegerField(default=0)
    # What was spent when the limit was last set: a limit lowered below it freezes the budget, and
    # verification then allows spent up to this figure, never a cent posted past the limit.
    spent_at_limit_change_minor = models.BigIntegerField(default=0)
    # When finance last set this period's own limit; None while it follows the department's standing limit,
    # so a month opened ahead of time still takes a standing limit changed before it starts.
    limit_set_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["month", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "month", "organization"], name="budget_period_one_per_month"),
            models.CheckConstraint(condition=Q(limit_minor__gte=0), name="budget_limit_not_negative"),
            models.CheckConstraint(condition=Q(held_minor__gte=0), name="budget_held_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.month:%Y-%m}"

    @property
    def available_minor(self) -> int:
        return max(self.limit_minor - self.spent_minor - self.held_minor, 0)

    @property
    def used_percent(self) -> int:
        """Whole percent of the limit spent or held; with a zero limit, any use counts as 100."""
        used = self.spent_minor + self.held_minor
        if self.limit_minor > 0:
            return used * 100 // self.limit_minor
        return 100 if used > 0 else 0
