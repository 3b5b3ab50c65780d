"""verify_audit: the audit log is whole and as it was written.

Its triggers (append-only guards, and the capture on every audited table) present and unchanged;
each organization's chain of changes (and the platform's) recomputed, against its signed
checkpoints; changes the sealer has not reached; and every back-office event (AuditEvent) equal
to its own capture in the change log, which the chain covers. One REPEATABLE READ, READ ONLY
transaction of plain reads, as verify_ledger.
"""

import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from apps.tenancy.models import Organization
from ledgerx.chain_checkpoints import chain_verify
from ledgerx.guarded_triggers import guarded_trigger_problems

from .chain import AUDIT_CHAIN
from .guarded_triggers import GUARDED_TRIGGERS
from .models import PLATFORM_CHAIN, AuditChange, AuditChangeSeal

Progress = Callable[[str], None]

# Events against their captures: changed (every column, the time compared as a time, whatever the
# session's time zone was when it was captured), never captured, or deleted after it. A platform event
# captured before migration 0021 says organization_id null there; the capture's own organization_id
# (chained too) says PLATFORM_CHAIN, which the event has carried since.
_EVENT_SQL = """
SELECT 'changed', e.id::text FROM audit_auditevent e
JOIN audit_auditchange c ON c.table_name = 'audit_auditevent' AND c.operation = 'INSERT' AND c.row_id = e.id::text
WHERE jsonb_set(c.after, '{organization_id}',
                coalesce(nullif(c.after -> 'organization_id', 'null'), to_jsonb(c.organization_id))) - 'created_at'
      IS DISTINCT FROM to_jsonb(e) - 'created_at'
   OR (c.after ->> 'created_at')::timestamptz IS DISTINCT FROM e.created_at
UNION ALL
SELECT 'uncaptured', e.id::text FROM audit_auditevent e
WHERE e.id > (SELECT min(row_id::bigint) FROM audit_auditchange WHERE table_name = 'audit_auditevent')
  AND NOT EXISTS (SELECT FROM audit_auditchange c
                  WHERE c.table_name = 'audit_auditevent' AND c.operation = 'INSERT' AND c.row_id = e.id::text)
UNION ALL
SELECT 'deleted', c.row_id FROM audit_auditchange c
WHERE c.table_name = 'audit_auditevent' AND c.operation = 'INSERT'
  AND NOT EXISTS (SELECT FROM audit_auditevent e WHERE e.id::text = c.row_id)
ORDER BY 1, 2
"""
_EVENT_PROBLEMS = {
    "changed": "Audit event {} is not what was captured when it was written: it was changed.",
    "uncaptured": "Audit event {} was never captured in the change log: it was inserted with the capture off.",
    "deleted": "Audit event {} was captured in the change log but is gone: it was deleted.",
}


def event_problems() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_EVENT_SQL)
        return [_EVENT_PROBLEMS[kind].format(event_id) for kind, event_id in cursor.fetchall()]


def audit_verify(*, incremental: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Check the audit log against the database. `ok` is False when any problem is found."""
    if connection.in_atomic_block:
        return _verify(incremental=incremental, progress=progress)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _verify(incremental=incremental, progress=progress)


def _verify(*, incremental: bool, progress: Progress | None) -> dict[str, Any]:
    started = time.monotonic()

    def report(message: str) -> None:
        if progress:
            progress(f"[{time.monotonic() - started:7.1f}s] {message}")

    problems = guarded_trigger_problems(GUARDED_TRIGGERS)
    report(f"{len(GUARDED_TRIGGERS)} audit triggers checked")
    chains = [(PLATFORM_CHAIN, "the platform's audit log")] + [
        (organization.id, f"the audit log of organization '{organization.slug}'")
        for organization in Organization.objects.order_by("slug")
    ]
    chain_report = chain_verify(AUDIT_CHAIN, chains=chains, scope=None, incremental=incremental, report=report)
    problems += chain_report.problems
    problems += event_problems()
    report("back-office events checked against their captures")
    return {
        "ok": not problems,
        "problems": problems,
        "notices": chain_report.notices,
        "checked": {
            "changes": AuditChange.objects.count(),
            "sealed_changes": AuditChangeSeal.objects.count(),
            "triggers": len(GUARDED_TRIGGERS),
            "chain_links_recomputed": chain_report.links_recomputed,
            "checkpoints": chain_report.checkpoints,
        },
    }
