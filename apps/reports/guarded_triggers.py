"""The reports' append-only triggers, checked by verify_ledger (ledgerx.guarded_triggers)."""

from ledgerx.guarded_triggers import GuardedTrigger

APPEND_ONLY = "apps.reports.migrations.0002_reports_append_only"

GUARDED_TRIGGERS = [
    GuardedTrigger("report_run_immutable", "reports_reportrun", "reports_refuse_change", APPEND_ONLY),
    GuardedTrigger("report_run_no_truncate", "reports_reportrun", "reports_refuse_change", APPEND_ONLY),
    GuardedTrigger(
        "access_review_sign_off_immutable", "reports_accessreviewsignoff", "reports_refuse_change", APPEND_ONLY
    ),
    GuardedTrigger(
        "access_review_sign_off_no_truncate", "reports_accessreviewsignoff", "reports_refuse_change", APPEND_ONLY
    ),
]
