from django.core.management.base import BaseCommand, CommandError

from apps.tenancy import mfa_services
from apps.tenancy.models import User
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = (
        "Break glass for a lost device: remove every second factor of a user and end their sessions and "
        "tokens; they sign in with their password and enroll again. Audited as mfa.reset."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="The user who lost their second factor.")
        parser.add_argument("--reason", required=True, help="Why, for the audit log (e.g. the ticket).")
        parser.add_argument(
            "--as",
            dest="actor",
            help="Email of the org admin (of the user's organization) or system admin who asked. Without it, "
            "the platform acts: for the last admin, when no other can.",
        )

    def handle(self, *args, **options) -> None:
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError("No such user.")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email=options["actor"].strip().lower(), is_active=True).first()
            if actor is None:
                raise CommandError("--as names no active user.")
        try:
            removed = mfa_services.second_factors_reset(actor=actor, user=user, reason=options["reason"])
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Removed {removed} second factor device(s) of {user.email}; sessions and tokens ended.")
