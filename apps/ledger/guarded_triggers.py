"""The ledger's triggers that verify_ledger checks are present and unchanged (ledgerx.guarded_triggers)."""

from ledgerx.guarded_triggers import GuardedTrigger

ENTRIES = "apps.ledger.migrations.0003_ledger_triggers"
SEALS = "apps.ledger.migrations.0005_entry_seal_triggers"
CHECKPOINTS = "apps.ledger.migrations.0012_chain_checkpoint_triggers"
BALANCE_CHECKPOINTS = "apps.ledger.migrations.0019_balance_checkpoint_triggers"
MONTH_CLOSE = "apps.ledger.migrations.0023_month_close_triggers"

GUARDED_TRIGGERS = [
    GuardedTrigger("ledger_entry_immutable", "ledger_entry", "ledger_entry_refuse_change", ENTRIES),
    GuardedTrigger("ledger_entry_no_truncate", "ledger_entry", "ledger_entry_refuse_change", ENTRIES),
    GuardedTrigger("ledger_entry_balanced", "ledger_entry", "ledger_journal_check_balanced", ENTRIES),
    GuardedTrigger("ledger_entryseal_immutable", "ledger_entryseal", "ledger_entryseal_refuse_change", SEALS),
    GuardedTrigger("ledger_entryseal_no_truncate", "ledger_entryseal", "ledger_entryseal_refuse_change", SEALS),
    GuardedTrigger(
        "ledger_chaincheckpoint_immutable",
        "ledger_chaincheckpoint",
        "ledger_chaincheckpoint_refuse_change",
        CHECKPOINTS,
    ),
    GuardedTrigger(
        "ledger_chaincheckpoint_no_truncate",
        "ledger_chaincheckpoint",
        "ledger_chaincheckpoint_refuse_change",
        CHECKPOINTS,
    ),
    GuardedTrigger(
        "ledger_balancecheckpoint_immutable",
        "ledger_balancecheckpoint",
        "ledger_balancecheckpoint_refuse_change",
        BALANCE_CHECKPOINTS,
    ),
    GuardedTrigger(
        "ledger_balancecheckpoint_no_truncate",
        "ledger_balancecheckpoint",
        "ledger_balancecheckpoint_refuse_change",
        BALANCE_CHECKPOINTS,
    ),
    GuardedTrigger("ledger_entry_month_open", "ledger_entry", "ledger_entry_refuse_closed_month", MONTH_CLOSE),
    GuardedTrigger("ledger_monthclose_immutable", "ledger_monthclose", "ledger_monthclose_refuse_change", MONTH_CLOSE),
    GuardedTrigger(
        "ledger_monthclose_no_truncate", "ledger_monthclose", "ledger_monthclose_refuse_change", MONTH_CLOSE
    ),
    # On the budgets' table, installed with the closes it reads (migration 0018's docstring says why).
    GuardedTrigger(
        "budget_period_month_open", "budgets_budgetperiod", "budget_period_refuse_closed_month", MONTH_CLOSE
    ),
]
