import uuid

from django.core.management.base import BaseCommand, CommandError

from apps.ledger.models import Transaction
from apps.spending.services import transaction_reverse
from apps.tenancy.commands import command_actor
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = "Reverse a posted spend with compensating entries, releasing its budget."

    def add_arguments(self, parser) -> None:
        parser.add_argument("transaction_id", type=uuid.UUID)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--as", dest="actor", required=True, help="Email of the finance manager or org admin.")

    def handle(self, *args, **options) -> None:
        original = Transaction.objects.filter(id=options["transaction_id"]).first()
        if original is None:
            raise CommandError("No such transaction.")
        actor = command_actor(organization_id=original.organization_id, email=options["actor"])
        try:
            reversal, _ = transaction_reverse(
                actor=actor,
                original_id=original.id,
                reason=options["reason"],
                idempotency_key=f"cli-reverse-{original.id}",
            )
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Reversed {original.id} by {reversal.id}.")
