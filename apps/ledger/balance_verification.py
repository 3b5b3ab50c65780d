"""verify_ledger's check of the balance checkpoints: each still equals the sum of the entries it covers.

Every checkpoint covers the account's entries with `id <= upto_entry_id` and `created_at <= cut_at`
(balance_checkpoints.py). The entries each adds to the account's previous checkpoint are recomputed
from the entries through the same two index ranges the writer reads, and summed in cut order, so a
whole account's checkpoints cost one pass over its entries and a changed checkpoint is named alone.
Its record of the previous checkpoint and of the late entries it found is checked too: the readers
rely on both.
"""

from typing import Any

from django.db import connection

_CHECK_SQL = """
WITH linked AS (
    SELECT c.*, lag(c.cut_at) OVER account_cuts AS previous_cut_at,
           lag(c.upto_entry_id, 1, 0::bigint) OVER account_cuts AS previous_upto
    FROM ledger_balancecheckpoint c WHERE true {scope}
    WINDOW account_cuts AS (PARTITION BY c.account_id ORDER BY c.cut_at)
),
added AS (
    SELECT c.*, increment.debits, increment.credits, increment.late_since AS found_late_since
    FROM linked c CROSS JOIN LATERAL (
        SELECT coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0) AS debits,
               coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0) AS credits,
               min(created_at) FILTER (WHERE late) AS late_since
        FROM (
            SELECT e.amount_minor, e.created_at, false AS late FROM ledger_entry_history e
            WHERE e.account_id = c.account_id AND e.created_at > coalesce(c.previous_cut_at, '-infinity')
              AND e.created_at <= c.cut_at AND e.id <= c.upto_entry_id
            UNION ALL
            SELECT e.amount_minor, e.created_at, true FROM ledger_entry_history e
            WHERE e.account_id = c.account_id AND e.id > c.previous_upto AND e.id <= c.upto_entry_id
              AND e.created_at <= c.previous_cut_at
        ) entries
    ) increment
),
summed AS (
    SELECT c.*, sum(c.debits) OVER account_cuts AS summed_debits, sum(c.credits) OVER account_cuts AS summed_credits
    FROM added c
    WINDOW account_cuts AS (PARTITION BY c.account_id ORDER BY c.cut_at)
)
SELECT c.id, a.name, c.cut_at, c.debits_minor, c.credits_minor, c.summed_debits, c.summed_credits,
       c.after_cut_at IS DISTINCT FROM c.previous_cut_at OR c.after_entry_id <> c.previous_upto AS unlinked,
       c.late_since IS DISTINCT FROM c.found_late_since AS late_misstated,
       c.organization_id <> a.organization_id AS misplaced
FROM summed c JOIN ledger_account a ON a.id = c.account_id
WHERE c.debits_minor <> c.summed_debits OR c.credits_minor <> c.summed_credits
   OR c.after_cut_at IS DISTINCT FROM c.previous_cut_at OR c.after_entry_id <> c.previous_upto
   OR c.late_since IS DISTINCT FROM c.found_late_since OR c.organization_id <> a.organization_id
ORDER BY a.name, c.cut_at
"""


def balance_checkpoint_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Each balance checkpoint against the entries. `scope` is `AND {alias}.organization_id = %s` or empty."""
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL.format(scope=scope.format(alias="c")), params)
        rows = cursor.fetchall()
    for checkpoint_id, name, cut_at, debits, credits, summed_debits, summed_credits, unlinked, late, misplaced in rows:
        where = f"Balance checkpoint {checkpoint_id} of '{name}' at {cut_at.isoformat()}"
        if (debits, credits) != (summed_debits, summed_credits):
            problems.append(
                f"{where} says {debits} debited and {credits} credited; its entries sum to "
                f"{summed_debits} and {summed_credits}."
            )
        if unlinked:
            problems.append(f"{where} does not follow the account's checkpoint before it.")
        if late:
            problems.append(f"{where} misstates the late entries it found.")
        if misplaced:
            problems.append(f"{where} is filed under another organization than its account's.")
    return problems
