from django.core.management.base import BaseCommand, CommandError

from apps.ledger.verification import ledger_verify
from apps.tenancy.models import Organization
from ledgerx.verify_report import verify_report_write


class Command(BaseCommand):
    help = "Check every ledger invariant; exits non-zero and lists the problems when anything is off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", help="Slug of one organization (default: all).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--incremental",
            "--since-checkpoint",
            action="store_true",
            help="Check the journals, budgets and tallies only where rows were written since the latest "
            "verified point (a passing run's snapshot), and each hash chain only from its latest checkpoint "
            "that still holds.",
        )
        parser.add_argument("--progress", action="store_true", help="Print progress lines to stderr.")

    def handle(self, *args, **options) -> None:
        organization = None
        if options["organization"]:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(f"No organization with slug '{options['organization']}'.")
        report = ledger_verify(
            organization=organization,
            incremental=options["incremental"],
            progress=self.stderr.write if options["progress"] else None,
        )
        verify_report_write(self.stdout, report, as_json=options["json"])
