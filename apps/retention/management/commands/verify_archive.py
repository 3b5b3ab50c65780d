from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.retention.selectors import archive_verify


class Command(BaseCommand):
    help = (
        "Check an archive written by archive_year: every file against the manifest, the manifest against its "
        "HMAC (LEDGER_CHECKPOINT_KEY), and each hash chain recomputed from the archived rows up to its signed "
        "checkpoints. Exits non-zero when a problem is found."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args, **options) -> None:
        report = archive_verify(options["directory"])
        problems = report.problems
        for problem in problems:
            self.stdout.write(f"PROBLEM: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problems found in {options['directory']}.")
        checked = "; ".join(
            f"{name}: {each['links']} links and {each['checkpoints']} checkpoints recomputed"
            for name, each in report.checked.items()
        )
        self.stdout.write(f"OK: {options['directory']} is whole and matches its signed chains ({checked}).")
