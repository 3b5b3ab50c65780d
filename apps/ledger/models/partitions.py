from django.db import models

from apps.tenancy.scoping import TenantQuerySet


class EntryPartition(models.Model):
    """One month's partition of the entries and of their seals: the entry ids in [id_from, id_to).

    The entries are partitioned by RANGE on id (docs/architecture.md, Partitioning): a month's entries are
    the ids issued while it was the open month, because the monthly roll moves the id sequence up to the
    month's range when the month begins. Platform-wide, not an organization's: every partition holds every
    organization's entries of its month. A view of the catalog (migration 0028), so that it cannot disagree
    with the partitions there are: made by ledger_entry_partitions_roll(), archived by apps/ledger/partitions.py.
    """

    month = models.DateField(primary_key=True, help_text="The month's first day, in UTC.")
    id_from = models.BigIntegerField()
    id_to = models.BigIntegerField(help_text="Exclusive.")
    # Detached from the live tables into the archive schema's (apps/ledger/partitions.py).
    archived = models.BooleanField()

    class Meta:
        managed = False
        db_table = "ledger_entrypartition"
        ordering = ["month"]

    def __str__(self) -> str:
        return f"entries of {self.month:%Y-%m}"


class EntryHistory(models.Model):
    """Every entry, of the live months and of the archived ones: the view ledger_entry_history (migration 0028).

    Read-only. What reads an entry of any month reads it here: a money decision (is this bill paid?) must
    see the months archived as well as the live ones. The entries themselves are `Entry`, the live table.
    """

    id = models.BigIntegerField(primary_key=True)
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    transaction = models.ForeignKey(
        "ledger.Transaction", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    account = models.ForeignKey("ledger.Account", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField()
    gl_code = models.CharField(max_length=32)
    cost_centre = models.CharField(max_length=32)

    objects = TenantQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "ledger_entry_history"
        ordering = ["id"]
        verbose_name_plural = "entry history"

    def __str__(self) -> str:
        return f"entry {self.id}"
