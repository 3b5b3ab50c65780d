import json

from django.core.management.base import BaseCommand, CommandError

from apps.ledger.verification import ledger_verify
from apps.tenancy.models import Organization


class Command(BaseCommand):
    help = "Check every ledger invariant; exits non-zero and lists the problems when anything is off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", help="Slug of one organization (default: all).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--incremental",
            "--since-checkpoint",
            action="store_true",
            help="Recompute each hash chain only from its latest checkpoint that still holds "
            "(every other check still covers the whole ledger).",
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
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, default=str))
        else:
            for notice in report["notices"]:
                self.stdout.write(f"notice: {notice}")
            for problem in report["problems"]:
                self.stdout.write(f"PROBLEM: {problem}")
            checked = ", ".join(f"{count} {what}" for what, count in report["checked"].items())
            self.stdout.write(f"{'OK' if report['ok'] else 'FAILED'}: checked {checked}.")
        if not report["ok"]:
            raise CommandError(f"{len(report['problems'])} problems found.")
