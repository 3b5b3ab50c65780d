"""The audit log's append-only triggers, checked by verify_ledger (ledgerx.guarded_triggers)."""

from ledgerx.guarded_triggers import GuardedTrigger

APPEND_ONLY = "apps.audit.migrations.0002_audit_append_only"

GUARDED_TRIGGERS = [
    GuardedTrigger("audit_event_immutable", "audit_auditevent", "audit_event_refuse_change", APPEND_ONLY),
    GuardedTrigger("audit_event_no_truncate", "audit_auditevent", "audit_event_refuse_change", APPEND_ONLY),
]
