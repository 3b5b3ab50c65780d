from django.core.management.base import BaseCommand, CommandError

from apps.ledger.partitions import entry_month_archive
from ledgerx.errors import LedgerXError
from ledgerx.months import month_parse, month_text


class Command(BaseCommand):
    help = (
        "Detach one month's partitions of the ledger entries and their seals into the archive schema "
        "(docs/operations.md, Partitions). Refused while the month's ids are still issued, or while an entry "
        "of it is unsealed or dated into a month its organization has not closed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM: the partition's month, in UTC.")

    def handle(self, *args, **options) -> None:
        try:
            archived = entry_month_archive(month=month_parse(options["month"]))
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Archived the entries of {month_text(archived.month)} (ids {archived.id_from} to {archived.id_to - 1})."
        )
