"""verify_ledger's check of employee payables: what the books say each employee is owed for reimbursement
claims, against the claims approved and the payouts released (apps/reimbursements).

Read by table, as the budget check reads budget periods: the ledger sits below the app that keeps
payout batches.
"""

from typing import Any

from django.db import connection


def payable_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Per employee: minus their payable's balance equals their posted claims less the lines of released
    payout batches; and each released line is paid by its claim's one payout leg, each payout leg by a
    released line."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH owed AS (
                SELECT a.organization_id, a.employee_id, -sum(e.amount_minor) AS total
                FROM ledger_entry_history e JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'employee_payable'
                WHERE true {scope.format(alias="e")}
                GROUP BY 1, 2
            ),
            approved AS (
                SELECT t.organization_id, t.employee_id, sum(t.amount_minor) AS total
                FROM ledger_transaction t
                WHERE t.kind = 'reimbursement' AND t.status = 'posted' {scope.format(alias="t")}
                GROUP BY 1, 2
            ),
            paid AS (
                SELECT l.organization_id, l.employee_id, sum(l.amount_minor) AS total
                FROM reimbursements_payoutline l
                JOIN reimbursements_payoutbatch b ON b.id = l.batch_id AND b.status = 'released'
                WHERE true {scope.format(alias="l")}
                GROUP BY 1, 2
            )
            SELECT u.email, coalesce(o.total, 0), coalesce(a.total, 0), coalesce(p.total, 0)
            FROM owed o
            FULL JOIN approved a USING (organization_id, employee_id)
            FULL JOIN paid p USING (organization_id, employee_id)
            JOIN tenancy_user u ON u.id = coalesce(o.employee_id, a.employee_id, p.employee_id)
            WHERE coalesce(o.total, 0) <> coalesce(a.total, 0) - coalesce(p.total, 0)
            ORDER BY u.email
            """,
            params * 3,
        )
        problems = [
            f"The payable to {email} says {owed} is owed; approved claims total {approved}, "
            f"of which {paid} was paid out."
            for email, owed, approved, paid in cursor.fetchall()
        ]
        cursor.execute(
            f"""
            WITH lines AS (
                SELECT l.claim_id, l.amount_minor FROM reimbursements_payoutline l
                JOIN reimbursements_payoutbatch b ON b.id = l.batch_id AND b.status = 'released'
                WHERE true {scope.format(alias="l")}
            ),
            legs AS (
                SELECT e.transaction_id AS claim_id, -e.amount_minor AS amount_minor
                FROM ledger_entry_history e JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'payout_clearing'
                WHERE true {scope.format(alias="e")}
            )
            SELECT coalesce(l.claim_id, g.claim_id), l.amount_minor, g.amount_minor
            FROM lines l FULL JOIN legs g ON g.claim_id = l.claim_id
            WHERE l.amount_minor IS DISTINCT FROM g.amount_minor
            """,
            params * 2,
        )
        problems += [
            f"Claim {claim_id}: "
            + (
                f"paid out {leg} in the ledger with no released payout line"
                if line is None
                else f"on a released payout line of {line}, paid out {leg or 0} in the ledger"
            )
            + "."
            for claim_id, line, leg in cursor.fetchall()
        ]
    return problems
