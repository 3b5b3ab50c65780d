from django.core.management.base import BaseCommand, CommandError

from apps.ledger.closing import month_close
from apps.tenancy.commands import command_actor, command_organization
from ledgerx.errors import LedgerXError
from ledgerx.months import month_parse, month_text


class Command(BaseCommand):
    help = (
        "Close one organization's month, as finance does at month end: afterwards nothing posts into it. "
        "Refused while a transaction counted in it is pending or awaiting approval, or an earlier month "
        "with entries is open. An org admin reopens a month (API or back office), giving a reason."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", required=True, help="Slug or id.")
        parser.add_argument("--month", required=True, help="YYYY-MM, in the organization's timezone.")
        parser.add_argument("--as", dest="actor", required=True, help="Email of the finance manager or org admin.")

    def handle(self, *args, **options) -> None:
        organization = command_organization(options["organization"])
        actor = command_actor(organization_id=organization.id, email=options["actor"])
        try:
            close = month_close(actor=actor, month=month_parse(options["month"]))
        except LedgerXError as error:
            named = error.fields.get("transactions", [])
            raise CommandError(" ".join([error.message, *map(str, named)])) from None
        self.stdout.write(
            f"Closed {month_text(close.month)} of '{organization.slug}': {close.entry_count} entries, "
            f"{close.debits_minor} debited and {close.credits_minor} credited (minor units)."
        )
