"""The audit log's triggers, checked by verify_ledger and verify_audit (ledgerx.guarded_triggers):
the append-only guards, and the capture triggers without which changes would go unrecorded.
"""

from importlib import import_module

from ledgerx.guarded_triggers import GuardedTrigger

APPEND_ONLY = "apps.audit.migrations.0002_audit_append_only"
CAPTURE = "apps.audit.migrations.0007_audit_capture"
CHART_CAPTURE = "apps.audit.migrations.0010_chart_capture"
RECONCILIATION_CAPTURE = "apps.audit.migrations.0011_reconciliation_capture"
INVITATION_CAPTURE = "apps.audit.migrations.0016_self_serve_actions"
SCIM_CAPTURE = "apps.audit.migrations.0017_scim_capture"
VENDOR_PAYMENTS_CAPTURE = "apps.audit.migrations.0018_vendor_payments"

_capture = import_module(CAPTURE)
# Tables captured by later migrations, with the function 0007 installed.
_later_captures = {
    migration: import_module(migration).CAPTURED
    for migration in (CHART_CAPTURE, RECONCILIATION_CAPTURE, INVITATION_CAPTURE, SCIM_CAPTURE, VENDOR_PAYMENTS_CAPTURE)
}

GUARDED_TRIGGERS = [
    GuardedTrigger("audit_event_immutable", "audit_auditevent", "audit_event_refuse_change", APPEND_ONLY),
    GuardedTrigger("audit_event_no_truncate", "audit_auditevent", "audit_event_refuse_change", APPEND_ONLY),
    *(
        GuardedTrigger(f"{table}_{guard}", table, "audit_change_refuse_change", CAPTURE)
        for table in _capture.APPEND_ONLY
        for guard in ("immutable", "no_truncate")
    ),
    *(
        GuardedTrigger(_capture.capture_trigger_name(table, operation), table, "audit_change_capture", CAPTURE)
        for table, operations in _capture.CAPTURED.items()
        for operation in operations
    ),
    *(
        GuardedTrigger(
            _capture.capture_trigger_name(table, operation),
            table,
            "audit_change_capture",
            migration,
            function_migration=CAPTURE,
        )
        for migration, captured in _later_captures.items()
        for table, operations in captured.items()
        for operation in operations
    ),
]

# What ledgerx/audit_context.py sets the context before: {table: operations}.
AUDITED_WRITES: dict[str, tuple[str, ...]] = {
    table: operations
    for captured in (_capture.CAPTURED, *_later_captures.values())
    for table, operations in captured.items()
}
