"""verify_ledger's checks of the budgets and the spend policy's tallies against the spends they count.

Read by table: budget periods and tallies are kept by apps below the ledger's readers (budgets, controls),
and each check is one statement over them and the ledger.
"""

from typing import Any

from django.db import connection


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def budget_problems(*, scope: str, params: list[Any]) -> tuple[list[str], list[str]]:
    """Each budget period against the ledger and its limit, per department (with its sub-departments) and
    month. Returns problems and notices."""
    problems: list[str] = []
    notices: list[str] = []
    for department, month, spent, ledger_total, held, awaiting in _rows(
        f"""
        WITH RECURSIVE closure(ancestor_id, descendant_id) AS (
            SELECT id, id FROM tenancy_department
            UNION ALL
            SELECT c.ancestor_id, d.id FROM closure c JOIN tenancy_department d ON d.parent_id = c.descendant_id
        ),
        ledger AS (
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(e.amount_minor) AS total
            FROM ledger_entry_history e
            JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'expense'
            JOIN ledger_transaction t ON t.id = e.transaction_id
            JOIN closure c ON c.descendant_id = a.department_id
            WHERE true {scope.format(alias="e")}
            GROUP BY 1, 2
        ),
        awaiting AS (
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(t.amount_minor) AS total
            FROM ledger_transaction t JOIN closure c ON c.descendant_id = t.department_id
            WHERE t.status = 'awaiting_approval' {scope.format(alias="t")}
            GROUP BY 1, 2
        ),
        periods AS (
            SELECT p.department_id, p.month, p.spent_minor, p.held_minor
            FROM budgets_budgetperiod p WHERE true {scope.format(alias="p")}
        ),
        expected AS (
            SELECT coalesce(l.department_id, w.department_id) AS department_id,
                   coalesce(l.month, w.month) AS month, coalesce(l.total, 0) AS spent, coalesce(w.total, 0) AS held
            FROM ledger l FULL JOIN awaiting w ON w.department_id = l.department_id AND w.month = l.month
        )
        SELECT d.name, coalesce(p.month, x.month), coalesce(p.spent_minor, 0), coalesce(x.spent, 0),
               coalesce(p.held_minor, 0), coalesce(x.held, 0)
        FROM periods p FULL JOIN expected x ON x.department_id = p.department_id AND x.month = p.month
        JOIN tenancy_department d ON d.id = coalesce(p.department_id, x.department_id)
        WHERE coalesce(p.spent_minor, 0) <> coalesce(x.spent, 0) OR coalesce(p.held_minor, 0) <> coalesce(x.held, 0)
        """,
        params * 3,
    ):
        if spent != ledger_total:
            problems.append(
                f"Budget of '{department}' for {month:%Y-%m} says {spent} spent, the ledger says {ledger_total}."
            )
        if held != awaiting:
            problems.append(
                f"Budget of '{department}' for {month:%Y-%m} holds {held}, spends awaiting approval total {awaiting}."
            )

    for department, month, spent, held, limit, spent_at_limit_change in _rows(
        f"""
        SELECT d.name, p.month, p.spent_minor, p.held_minor, p.limit_minor, p.spent_at_limit_change_minor
        FROM budgets_budgetperiod p JOIN tenancy_department d ON d.id = p.department_id
        WHERE (p.spent_minor > p.limit_minor OR p.held_minor < 0) {scope.format(alias="p")}
        """,
        params,
    ):
        # A limit may be lowered below what is spent (finance freezing a budget); the period keeps
        # what was spent then, and nothing more posts. Spent past both was posted past the limit.
        if spent > max(limit, spent_at_limit_change):
            frozen = (
                f" (and over the {spent_at_limit_change} it was frozen at)" if spent_at_limit_change > limit else ""
            )
            problems.append(
                f"Budget of '{department}' for {month:%Y-%m} has {spent} spent, over its limit of {limit}{frozen}: "
                "spend was posted past the limit."
            )
        elif spent > limit:
            notices.append(
                f"Budget of '{department}' for {month:%Y-%m} has {spent} spent over a limit of {limit} "
                "lowered below it: frozen, nothing more posts."
            )
        if held < 0:
            problems.append(f"Budget of '{department}' for {month:%Y-%m} holds {held}, below zero.")
    return problems, notices


def tally_problems(*, scope: str, params: list[Any]) -> list[str]:
    """The spend policy's running tallies against the spends they count: posted or held for approval,
    per employee, department, category and the organization's local day (apps/controls SpendTally).

    Read by table, as the budget check reads budget periods: the ledger sits below the app that keeps them.
    """
    return [
        f"Spend tally of {email} in '{department}', category '{category}', on {day}: {kept} kept, "
        f"the spends posted or held total {counted}."
        for email, department, category, day, kept, counted in _rows(
            f"""
            WITH counted AS (
                SELECT t.organization_id, t.employee_id, t.department_id, t.category,
                       (t.created_at AT TIME ZONE o.timezone)::date AS day, sum(t.amount_minor) AS total
                FROM ledger_transaction t JOIN tenancy_organization o ON o.id = t.organization_id
                WHERE t.kind IN ('spend', 'reimbursement', 'bill') AND t.status IN ('posted', 'awaiting_approval')
                      {scope.format(alias="t")}
                GROUP BY 1, 2, 3, 4, 5
            ),
            kept AS (
                SELECT s.organization_id, s.employee_id, s.department_id, s.category, s.day,
                       sum(s.amount_minor) AS total
                FROM controls_spendtally s WHERE true {scope.format(alias="s")}
                GROUP BY 1, 2, 3, 4, 5
            )
            SELECT u.email, d.name, category, day, coalesce(k.total, 0), coalesce(c.total, 0)
            FROM kept k FULL JOIN counted c USING (organization_id, employee_id, department_id, category, day)
            JOIN tenancy_user u ON u.id = coalesce(k.employee_id, c.employee_id)
            JOIN tenancy_department d ON d.id = coalesce(k.department_id, c.department_id)
            WHERE coalesce(k.total, 0) <> coalesce(c.total, 0)
            ORDER BY day, u.email
            """,
            params * 2,
        )
    ]
