from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.tenancy.scoping import TenantQuerySet


class BalanceCheckpoint(models.Model):
    """An account's running totals over the entries it covers, written off the payment path
    (apps/ledger/balance_checkpoints.py) so that a balance at any instant is this plus a few entries.

    It covers the account's entries with `id <= upto_entry_id` and `created_at <= cut_at`. Every entry
    id up to `upto_entry_id` was final (committed or rolled back) when it was written, so what it covers
    never changes. The account's previous checkpoint covered (`after_cut_at`, `after_entry_id`);
    `late_since` is the earliest `created_at` among the entries this one added that were dated at or
    before that previous cut (they committed after it was taken): the readers look for those.
    Append-only: the database refuses UPDATE, DELETE and TRUNCATE.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Indexed through the unique constraint, which leads with it.
    account = models.ForeignKey(
        "ledger.Account", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    cut_at = models.DateTimeField()
    upto_entry_id = models.BigIntegerField()
    after_cut_at = models.DateTimeField(null=True, blank=True)
    after_entry_id = models.BigIntegerField(default=0)
    debits_minor = models.BigIntegerField(help_text="The sum of the positive amounts it covers.")
    credits_minor = models.BigIntegerField(help_text="The sum of the negative amounts it covers, as a positive number.")
    late_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["account", "cut_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "cut_at", "organization"], name="balance_checkpoint_cut_per_account"
            ),
            models.CheckConstraint(
                condition=Q(debits_minor__gte=0, credits_minor__gte=0), name="balance_checkpoint_totals_positive"
            ),
            models.CheckConstraint(
                condition=Q(after_cut_at__isnull=True, after_entry_id=0)
                | Q(after_cut_at__lt=F("cut_at"), after_entry_id__lte=F("upto_entry_id")),
                name="balance_checkpoint_goes_forward",
            ),
        ]
        indexes = [
            # The later checkpoints that found late entries, which a balance before them must add.
            models.Index(
                fields=["account", "cut_at"], condition=Q(late_since__isnull=False), name="balance_checkpoint_late"
            ),
        ]

    def __str__(self) -> str:
        return f"checkpoint of {self.account_id} at {self.cut_at.isoformat()}"
