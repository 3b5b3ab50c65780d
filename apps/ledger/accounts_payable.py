"""verify_ledger's check of accounts payable: what the books say the organization owes its vendors, against
the bills approved and the payments released and returned (apps/payables).

Read by table, as the employee payables check reads payout batches: the ledger sits below the app that
keeps bills and payment runs.
"""

from typing import Any

from django.db import connection


def accounts_payable_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Per organization: minus accounts payable's balance equals its posted bills less their payments
    still standing (released, not returned); the bank's balance is minus those payments."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ledger AS (
                SELECT a.organization_id,
                       -sum(e.amount_minor) FILTER (WHERE a.kind = 'accounts_payable') AS owed,
                       -sum(e.amount_minor) FILTER (WHERE a.kind = 'bank') AS paid
                FROM ledger_entry_history e
                JOIN ledger_account a ON a.id = e.account_id AND a.kind IN ('accounts_payable', 'bank')
                WHERE true {scope.format(alias="e")}
                GROUP BY 1
            ),
            bills AS (
                SELECT t.organization_id, sum(t.amount_minor) AS total
                FROM ledger_transaction t
                WHERE t.kind = 'bill' AND t.status = 'posted' {scope.format(alias="t")}
                GROUP BY 1
            ),
            payments AS (
                SELECT l.organization_id, sum(l.base_amount_minor) AS total
                FROM payables_paymentline l
                JOIN payables_paymentrun r ON r.id = l.run_id AND r.status = 'released'
                WHERE l.returned_at IS NULL {scope.format(alias="l")}
                GROUP BY 1
            )
            SELECT o.slug, coalesce(g.owed, 0), coalesce(g.paid, 0), coalesce(b.total, 0), coalesce(p.total, 0)
            FROM ledger g
            FULL JOIN bills b USING (organization_id)
            FULL JOIN payments p USING (organization_id)
            JOIN tenancy_organization o ON o.id = coalesce(g.organization_id, b.organization_id, p.organization_id)
            WHERE coalesce(g.owed, 0) <> coalesce(b.total, 0) - coalesce(p.total, 0)
               OR coalesce(g.paid, 0) <> coalesce(p.total, 0)
            ORDER BY o.slug
            """,
            params * 3,
        )
        problems = [
            f"Accounts payable of '{slug}' says {owed} is owed and the bank {paid} paid to vendors; approved bills "
            f"total {bills}, of which payments standing (released, not returned) total {payments}."
            for slug, owed, paid, bills, payments in cursor.fetchall()
        ]
        # Each bill's bank legs (on its transaction's journal) are its payment lines: one out per released line,
        # one back per return.
        cursor.execute(
            f"""
            WITH lines AS (
                SELECT b.transaction_id AS bill_id, count(*) AS paid, count(l.returned_at) AS returned
                FROM payables_paymentline l
                JOIN payables_paymentrun r ON r.id = l.run_id AND r.status = 'released'
                JOIN payables_bill b ON b.id = l.bill_id
                WHERE true {scope.format(alias="l")}
                GROUP BY 1
            ),
            legs AS (
                SELECT e.transaction_id AS bill_id, count(*) FILTER (WHERE e.amount_minor < 0) AS paid,
                       count(*) FILTER (WHERE e.amount_minor > 0) AS returned
                FROM ledger_entry_history e JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'bank'
                WHERE true {scope.format(alias="e")}
                GROUP BY 1
            )
            SELECT coalesce(l.bill_id, g.bill_id), coalesce(l.paid, 0), coalesce(l.returned, 0),
                   coalesce(g.paid, 0), coalesce(g.returned, 0)
            FROM lines l FULL JOIN legs g ON g.bill_id = l.bill_id
            WHERE (coalesce(l.paid, 0), coalesce(l.returned, 0)) <> (coalesce(g.paid, 0), coalesce(g.returned, 0))
            """,
            params * 2,
        )
        problems += [
            f"Bill {bill_id}: {lines_paid} released payment lines ({lines_returned} returned), "
            f"but {legs_paid} payments out of the bank ({legs_returned} back) in the ledger."
            for bill_id, lines_paid, lines_returned, legs_paid, legs_returned in cursor.fetchall()
        ]
    return problems
