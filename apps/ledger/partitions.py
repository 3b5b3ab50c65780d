"""The entries' monthly partitions (migration 0028; docs/architecture.md, Partitioning): opening the
months, and archiving the old ones.

Both are done by the database's own functions, run as the owner (SECURITY DEFINER) from the application's
role: only the owner may change partitions, and each function refuses by itself what it must not do.
"""

from datetime import date, datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledgerx.errors import Conflict

from .models import EntryPartition

# Raised by ledger_entry_partition_archive() for a month that may not be archived (migration 0028).
PARTITION_REFUSED_SQLSTATE = "LXP01"


class ArchiveRefused(Conflict):
    code = "archive_refused"


def entry_partitions() -> list[EntryPartition]:
    return list(EntryPartition.objects.order_by("month"))


def entry_partitions_roll(*, moment: datetime | None = None) -> None:
    """Make this month's and next month's partitions if they are missing, and move the entry id sequence
    up to this month's range once it has begun. Idempotent: the beat runs it every hour."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT ledger_entry_partitions_roll(%s)", [moment or timezone.now()])


def entry_month_archive(*, month: date) -> EntryPartition:
    """Detach `month`'s partitions of the entries and their seals into the archive schema, where the
    readers of the whole history (verify_ledger among them) still read them. Refused while the month's
    ids are still being issued, or while any of its entries is unsealed or dated into a month its
    organization has not closed."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT ledger_entry_partition_archive(%s)", [month])
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) != PARTITION_REFUSED_SQLSTATE:
            raise
        raise ArchiveRefused(error.__cause__.diag.message_primary) from None
    return EntryPartition.objects.get(month=month)
