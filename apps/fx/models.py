"""An organization's FX rates: how many units of its base currency one unit of another currency is worth
on a day. Append-only: a correction is a new row for the same day, and the newest row of a day is that
day's rate, so the table is its own history of who set which rate when. A spend stores the rate it was
converted at, so no later correction changes money already accepted.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet
from ledgerx.money import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS


class FxRate(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by finance"
        ECB = "ecb", "ECB reference rates file"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, help_text="The currency quoted: one unit of it is `rate` base units.")
    rate_date = models.DateField()
    rate = models.DecimalField(max_digits=RATE_MAX_DIGITS, decimal_places=RATE_DECIMAL_PLACES)
    source = models.CharField(max_length=10, choices=Source.choices)
    # The SHA-256 of the uploaded ECB file the rate came from; empty for a rate entered by hand.
    source_checksum = models.CharField(max_length=64, blank=True, default="")
    # None when the platform set it (the demo's seeding).
    entered_by = models.ForeignKey("tenancy.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "FX rate"
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_positive"),
        ]
        indexes = [
            # rate_for: the newest rate of a currency on or before a day.
            models.Index(fields=["organization", "currency", "-rate_date", "-id"], name="fx_rate_lookup"),
            models.Index(fields=["organization", "-created_at", "-id"], name="fx_rate_org_newest"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} on {self.rate_date}"
