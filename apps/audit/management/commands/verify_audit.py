from django.core.management.base import BaseCommand

from apps.audit.verification import audit_verify
from ledgerx.verify_report import verify_report_write


class Command(BaseCommand):
    help = "Check the audit log: its triggers, its hash chains and checkpoints, its events against their captures."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Recompute each hash chain only from its latest checkpoint that still holds.",
        )
        parser.add_argument("--progress", action="store_true", help="Print progress lines to stderr.")

    def handle(self, *args, **options) -> None:
        report = audit_verify(
            incremental=options["incremental"], progress=self.stderr.write if options["progress"] else None
        )
        verify_report_write(self.stdout, report, as_json=options["json"])
