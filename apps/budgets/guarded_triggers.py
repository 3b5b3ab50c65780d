"""The budgets' trigger that verify_ledger checks is present and unchanged (ledgerx.guarded_triggers)."""

from ledgerx.guarded_triggers import GuardedTrigger

FITS_LIMIT = "apps.budgets.migrations.0004_budget_period_fits_limit"

GUARDED_TRIGGERS = [
    GuardedTrigger("budget_period_fits_limit", "budgets_budgetperiod", "budget_period_check_fit", FITS_LIMIT),
]
