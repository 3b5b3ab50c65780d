"""How verify_ledger and verify_audit print their reports and fail."""

import json

from django.core.management.base import CommandError


def verify_report_write(stdout, report: dict, *, as_json: bool) -> None:
    """Print `report` ({ok, problems, notices, checked}) as JSON or as lines; raise CommandError unless ok."""
    if as_json:
        stdout.write(json.dumps(report, indent=2, default=str))
    else:
        for notice in report["notices"]:
            stdout.write(f"notice: {notice}")
        for problem in report["problems"]:
            stdout.write(f"PROBLEM: {problem}")
        checked = ", ".join(f"{count} {what}" for what, count in report["checked"].items())
        stdout.write(f"{'OK' if report['ok'] else 'FAILED'}: checked {checked}.")
    if not report["ok"]:
        raise CommandError(f"{len(report['problems'])} problems found.")
