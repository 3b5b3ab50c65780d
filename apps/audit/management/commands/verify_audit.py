import json

from django.core.management.base import BaseCommand, CommandError

from apps.audit.verification import audit_verify


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
