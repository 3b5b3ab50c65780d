"""The retention record's append-only guards, checked by verify_ledger (ledgerx.guarded_triggers)."""

from ledgerx.guarded_triggers import GuardedTrigger

APPEND_ONLY = "apps.retention.migrations.0002_retention_archive_append_only"

GUARDED_TRIGGERS = [
    GuardedTrigger(
        "retention_retentionarchive_immutable",
        "retention_retentionarchive",
        "retention_retentionarchive_refuse_change",
        APPEND_ONLY,
    ),
    GuardedTrigger(
        "retention_retentionarchive_no_truncate",
        "retention_retentionarchive",
        "retention_retentionarchive_refuse_change",
        APPEND_ONLY,
    ),
]
