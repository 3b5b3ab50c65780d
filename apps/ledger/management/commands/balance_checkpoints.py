from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.ledger.balance_checkpoints import (
    WritersInFlight,
    balance_checkpoints_backfill,
    balance_checkpoints_write,
)
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Write the accounts' balance checkpoints now (the beat task does every minute); with --backfill-hours, "
        "also through the ledger's history, for a ledger older than its checkpoints."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", help="Slug of one organization (default: all).")
        parser.add_argument(
            "--backfill-hours", type=float, help="A checkpoint every this many hours from the first entry."
        )

    def handle(self, *args, **options) -> None:
        organizations = None
        if options["organization"]:
            organizations = list(Organization.objects.filter(slug=options["organization"]))
            if not organizations:
                raise CommandError(f"No organization with slug '{options['organization']}'.")
        hours = options["backfill_hours"]
        if hours is not None and hours <= 0:
            raise CommandError("--backfill-hours must be positive.")
        try:
            if hours:
                written = balance_checkpoints_backfill(every=timedelta(hours=hours), organizations=organizations)
            else:
                written = balance_checkpoints_write(organizations=organizations)
        except WritersInFlight as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{written} balance checkpoints written.")
