from django.core.management.base import BaseCommand, CommandError

from apps.ledger.closing import month_close, month_parse, month_text
from apps.tenancy.selectors import finance_user_by_email, organization_by_slug_or_id
from ledgerx.errors import LedgerXError


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
        organization = organization_by_slug_or_id(text=options["organization"])
        if organization is None:
            raise CommandError(f"No organization {options['organization']!r} (give its slug or id).")
        actor = finance_user_by_email(organization_id=organization.id, email=options["actor"])
        if actor is None:
            raise CommandError("--as must name a finance manager or org admin of the organization.")
        try:
            close = month_close(actor=actor, month=month_parse(options["month"]))
        except LedgerXError as error:
            named = error.fields.get("transactions", [])
            raise CommandError(" ".join([error.message, *map(str, named)])) from None
        self.stdout.write(
            f"Closed {month_text(close.month)} of '{organization.slug}': {close.entry_count} entries, "
            f"{close.debits_minor} debited and {close.credits_minor} credited (minor units)."
        )
