from django.db import models
from django.db.models import Q

from apps.tenancy.scoping import TenantQuerySet


class MonthClose(models.Model):
    """One act on an organization's month: closed, or reopened. A month's state is its latest act.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE, so the rows are the month's history
    (who closed it when, who reopened it when and why). While a month's latest act is a close, the
    database refuses an entry dated into it (migration 0018), and verify_ledger checks against what the
    close recorded: the highest entry id of the organization then, and the month's entries' totals.
    """

    class Act(models.TextChoices):
        CLOSED = "closed", "Closed"
        REOPENED = "reopened", "Reopened"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The month's first day, in the organization's timezone.")
    act = models.CharField(max_length=8, choices=Act.choices)
    acted_by = models.ForeignKey("tenancy.User", on_delete=models.PROTECT, related_name="+")
    acted_at = models.DateTimeField()
    reason = models.TextField(blank=True, default="", help_text="Why a month was reopened.")
    # What a close saw, for verify_ledger; None on a reopening.
    entry_high_water = models.BigIntegerField(
        null=True, blank=True, help_text="The organization's highest entry id at the close (0 for none)."
    )
    entry_count = models.BigIntegerField(null=True, blank=True)
    debits_minor = models.BigIntegerField(null=True, blank=True)
    credits_minor = models.BigIntegerField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "month", "id"]
        indexes = [models.Index(fields=["organization", "month", "-id"], name="month_close_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="month_close_first_day"),
            models.CheckConstraint(
                condition=(
                    Q(act="closed", reason="")
                    & Q(entry_high_water__isnull=False, entry_count__isnull=False)
                    & Q(debits_minor__isnull=False, credits_minor__isnull=False)
                )
                | (
                    Q(act="reopened", entry_high_water__isnull=True, entry_count__isnull=True)
                    & Q(debits_minor__isnull=True, credits_minor__isnull=True)
                    & ~Q(reason="")
                ),
                name="month_close_fits_act",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.act}"
