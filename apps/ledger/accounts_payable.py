"""verify_ledger's check of accounts payable: what the books say the organization owes its vendors, against
the bills approved and the payments released and returned (apps/payables).

Read by table, as the employee payables check reads payout batches: the ledger sits below the app that
keeps bills and payment runs.
"""

from typing import Any

from django.db import connection

from .services import shares_of


def accounts_payable_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Each approved bill's accrual against its GL lines (bill_line_problems). Per organization: minus
    accounts payable's balance equals its posted bills less their payments
    still standing (released, not returned), each at its bill's base amount at approval; the bank's balance
    is minus what those payments cost in the base currency, and realised FX gain/loss the difference."""
    problems = bill_line_problems(scope=scope, params=params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH ledger AS (
                SELECT a.organization_id,
                       -sum(e.amount_minor) FILTER (WHERE a.kind = 'accounts_payable') AS owed,
                       -sum(e.amount_minor) FILTER (WHERE a.kind = 'bank') AS paid,
                       sum(e.amount_minor) FILTER (WHERE a.kind = 'fx_gain_loss') AS fx
                FROM ledger_entry_history e
                JOIN ledger_account a ON a.id = e.account_id AND a.kind IN ('accounts_payable', 'bank', 'fx_gain_loss')
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
                SELECT l.organization_id, sum(l.base_amount_minor) AS total, sum(l.paid_base_amount_minor) AS paid
                FROM payables_paymentline l
                JOIN payables_paymentrun r ON r.id = l.run_id AND r.status = 'released'
                WHERE l.returned_at IS NULL {scope.format(alias="l")}
                GROUP BY 1
            )
            SELECT o.slug, coalesce(g.owed, 0), coalesce(g.paid, 0), coalesce(g.fx, 0), coalesce(b.total, 0),
                   coalesce(p.total, 0), coalesce(p.paid, 0)
            FROM ledger g
            FULL JOIN bills b USING (organization_id)
            FULL JOIN payments p USING (organization_id)
            JOIN tenancy_organization o ON o.id = coalesce(g.organization_id, b.organization_id, p.organization_id)
            WHERE coalesce(g.owed, 0) <> coalesce(b.total, 0) - coalesce(p.total, 0)
               OR coalesce(g.paid, 0) <> coalesce(p.paid, 0)
               OR coalesce(g.fx, 0) <> coalesce(p.paid, 0) - coalesce(p.total, 0)
            ORDER BY o.slug
            """,
            params * 3,
        )
        problems += [
            f"Accounts payable of '{slug}' says {owed} is owed, the bank {paid} paid to vendors and realised FX "
            f"{fx}; approved bills total {bills}, of which payments standing (released, not returned) clear "
            f"{payments} and cost {cost}."
            for slug, owed, paid, fx, bills, payments, cost in cursor.fetchall()
        ]
        # Each bill's bank legs (on its transaction's journal) are its payment lines: one out per released line,
        # one back per return, by what the line cost; its FX legs the difference of that from its base amount.
        cursor.execute(
            f"""
            WITH lines AS (
                SELECT b.transaction_id AS bill_id, count(*) AS paid, count(l.returned_at) AS returned,
                       coalesce(sum(l.paid_base_amount_minor) FILTER (WHERE l.returned_at IS NULL), 0) AS cost,
                       coalesce(sum(l.paid_base_amount_minor - l.base_amount_minor)
                           FILTER (WHERE l.returned_at IS NULL), 0) AS fx
                FROM payables_paymentline l
                JOIN payables_paymentrun r ON r.id = l.run_id AND r.status = 'released'
                JOIN payables_bill b ON b.id = l.bill_id
                WHERE true {scope.format(alias="l")}
                GROUP BY 1
            ),
            legs AS (
                SELECT e.transaction_id AS bill_id,
                       count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor < 0) AS paid,
                       count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor > 0) AS returned,
                       -coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'bank'), 0) AS cost,
                       coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'fx_gain_loss'), 0) AS fx
                FROM ledger_entry_history e
                JOIN ledger_account a ON a.id = e.account_id AND a.kind IN ('bank', 'fx_gain_loss')
                WHERE true {scope.format(alias="e")}
                GROUP BY 1
            )
            SELECT coalesce(l.bill_id, g.bill_id), coalesce(l.paid, 0), coalesce(l.returned, 0), coalesce(l.cost, 0),
                   coalesce(l.fx, 0), coalesce(g.paid, 0), coalesce(g.returned, 0), coalesce(g.cost, 0),
                   coalesce(g.fx, 0)
            FROM lines l FULL JOIN legs g ON g.bill_id = l.bill_id
            WHERE (coalesce(l.paid, 0), coalesce(l.returned, 0), coalesce(l.cost, 0), coalesce(l.fx, 0))
                  <> (coalesce(g.paid, 0), coalesce(g.returned, 0), coalesce(g.cost, 0), coalesce(g.fx, 0))
            """,
            params * 2,
        )
        problems += [
            f"Bill {bill_id}: {lines_paid} released payment lines ({lines_returned} returned) standing at a cost of "
            f"{line_cost} (FX {line_fx}), but {legs_paid} payments out of the bank ({legs_returned} back) of "
            f"{leg_cost} (FX {leg_fx}) in the ledger."
            for bill_id, lines_paid, lines_returned, line_cost, line_fx, legs_paid, legs_returned, leg_cost, leg_fx in (
                cursor.fetchall()
            )
        ]
    return problems


def bill_line_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Each bill posted (or reversed since) has one expense entry per GL line, in the lines' order, with the
    line's GL code and its share of the bill's base amount (services.shares_of, as the journal writer splits
    it; a share of nothing has no entry). A bill with no lines (entered before bills had them, in an
    organization with no chart then) is posted as the chart decided and not checked here."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH lines AS (
                SELECT b.transaction_id, array_agg(g.code ORDER BY l.position) AS codes,
                       array_agg(l.amount_minor ORDER BY l.position) AS amounts
                FROM payables_billline l
                JOIN payables_bill b ON b.id = l.bill_id
                JOIN ledger_glaccount g ON g.id = l.gl_account_id
                WHERE true {scope.format(alias="l")}
                GROUP BY 1
            ),
            legs AS (
                SELECT e.transaction_id, array_agg(e.gl_code ORDER BY e.id) AS codes,
                       array_agg(e.amount_minor ORDER BY e.id) AS amounts
                FROM ledger_entry_history e
                JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'expense'
                JOIN ledger_transaction t ON t.id = e.transaction_id AND t.kind = 'bill'
                WHERE true {scope.format(alias="e")}
                GROUP BY 1
            )
            SELECT t.id, t.amount_minor, l.codes, l.amounts, coalesce(g.codes, '{{}}'), coalesce(g.amounts, '{{}}')
            FROM lines l
            JOIN ledger_transaction t ON t.id = l.transaction_id AND t.status IN ('posted', 'reversed')
            LEFT JOIN legs g ON g.transaction_id = l.transaction_id
            """,
            params * 2,
        )
        rows = cursor.fetchall()
    problems = []
    for bill_id, amount, line_codes, line_amounts, leg_codes, leg_amounts in rows:
        expected = [
            (code, share) for code, share in zip(line_codes, shares_of(amount, line_amounts), strict=True) if share
        ]
        posted = list(zip(leg_codes, leg_amounts, strict=True))
        if posted != expected:
            problems.append(
                f"Bill {bill_id} of {amount}: its GL lines say "
                + ", ".join(f"{share} on {code}" for code, share in expected)
                + "; its expense entries are "
                + (", ".join(f"{leg} on {code or '(no code)'}" for code, leg in posted) or "none")
                + "."
            )
    return problems
