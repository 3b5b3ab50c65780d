"""verify_ledger's checks of the budgets and the spend policy's tallies against the spends they count.

Read by table: budget periods and tallies are kept by apps below the ledger's readers (budgets, controls),
and each check is one statement over them and the ledger.
"""

from typing import Any

from django.db import connection

from .verified_points import Written


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# A spend's expense leg, as the journal check holds it: its amount when posted (or reversed since), less a
# reversal's.
_SPENT = "CASE t.kind WHEN 'reversal' THEN -t.amount_minor ELSE t.amount_minor END"
_CLOSURE = """closure(ancestor_id, descendant_id) AS (
            SELECT id, id FROM tenancy_department
            UNION ALL
            SELECT c.ancestor_id, d.id FROM closure c JOIN tenancy_department d ON d.parent_id = c.descendant_id
        )"""
_COUNTED_BY_TALLIES = "t.kind IN ('spend', 'reimbursement', 'bill') AND t.status IN ('posted', 'awaiting_approval')"


def budget_problems(*, scope: str, params: list[Any], written: Written | None = None) -> tuple[list[str], list[str]]:
    """Each budget period against the ledger and its limit, per department (with its sub-departments) and
    month. Returns problems and notices.

    With `written`, only the periods a row written since the point may have changed: the months of the
    transactions written since in their departments and every one above, the periods written since, and
    every period of an organization whose departments were written since. The totals of the top departments
    against every spend then catch a period removed outright."""
    problems: list[str] = []
    notices: list[str] = []
    if written is None:
        dirty = ""
        dirty_params: list[Any] = []
        ledger = f"""
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(e.amount_minor) AS total
            FROM ledger_entry_history e
            JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'expense'
            JOIN ledger_transaction t ON t.id = e.transaction_id
            JOIN closure c ON c.descendant_id = a.department_id
            WHERE true {scope.format(alias="e")}
            GROUP BY 1, 2"""
        in_dirty = ""
    else:
        keys = _rows(
            f"""
            WITH RECURSIVE {_CLOSURE}
            SELECT c.ancestor_id, t.budget_month
            FROM ledger_transaction t JOIN closure c ON c.descendant_id = t.department_id
            WHERE (t.id = ANY(%s) OR t.organization_id = ANY(%s)) {scope.format(alias="t")}
            UNION
            SELECT p.department_id, p.month FROM budgets_budgetperiod p
            WHERE ({written.since.written("p")} OR p.organization_id = ANY(%s)) {scope.format(alias="p")}
            """,
            [
                written.transaction_ids,
                written.organization_ids,
                *params,
                *written.since.params,
                written.organization_ids,
                *params,
            ],
        )
        # The keys travel as arrays, so that the planner knows how few they are (verified_points.written_since).
        dirty = """
        dirty(department_id, month) AS (SELECT * FROM unnest(%s::uuid[], %s::date[])),"""
        dirty_params = [[key[0] for key in keys], [key[1] for key in keys]]
        # Found through the transactions' department index; the journal check holds a spend's expense
        # account to its department.
        ledger = """
            SELECT k.department_id, k.month, sum(e.amount_minor) AS total
            FROM dirty k JOIN closure c ON c.ancestor_id = k.department_id
            JOIN ledger_transaction t ON t.department_id = c.descendant_id AND t.budget_month = k.month
            JOIN ledger_entry_history e ON e.transaction_id = t.id
            JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'expense'
            GROUP BY 1, 2"""
        in_dirty = "AND ({department}, {month}) IN (SELECT department_id, month FROM dirty)"
    for department, month, spent, ledger_total, held, awaiting in _rows(
        f"""
        WITH RECURSIVE {_CLOSURE},{dirty}
        ledger AS ({ledger}
        ),
        awaiting AS (
            SELECT c.ancestor_id AS department_id, t.budget_month AS month, sum(t.amount_minor) AS total
            FROM ledger_transaction t JOIN closure c ON c.descendant_id = t.department_id
            WHERE t.status = 'awaiting_approval' {scope.format(alias="t")}
                  {in_dirty.format(department="c.ancestor_id", month="t.budget_month")}
            GROUP BY 1, 2
        ),
        periods AS (
            SELECT p.department_id, p.month, p.spent_minor, p.held_minor
            FROM budgets_budgetperiod p WHERE true {scope.format(alias="p")}
                 {in_dirty.format(department="p.department_id", month="p.month")}
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
        dirty_params + (params * 2 if written else params * 3),
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
    if written is not None:
        # A spend counts in its department's period and in each above it, so the periods of every department
        # sum to each spend times the departments it counts in.
        ((kept_spent, kept_held, spent, held),) = _rows(
            f"""
            WITH RECURSIVE counted_in(department_id, departments) AS (
                SELECT id, 1 FROM tenancy_department WHERE parent_id IS NULL
                UNION ALL
                SELECT d.id, c.departments + 1
                FROM counted_in c JOIN tenancy_department d ON d.parent_id = c.department_id
            )
            SELECT p.spent, p.held, t.spent, t.held
            FROM (
                SELECT coalesce(sum(p.spent_minor), 0) AS spent, coalesce(sum(p.held_minor), 0) AS held
                FROM budgets_budgetperiod p WHERE true {scope.format(alias="p")}
            ) p, (
                SELECT coalesce(sum({_SPENT} * c.departments) FILTER (WHERE t.status IN ('posted', 'reversed')), 0)
                           AS spent,
                       coalesce(sum(t.amount_minor * c.departments) FILTER (WHERE t.status = 'awaiting_approval'), 0)
                           AS held
                FROM ledger_transaction t JOIN counted_in c ON c.department_id = t.department_id
                WHERE true {scope.format(alias="t")}
            ) t
            """,
            params * 2,
        )
        if (kept_spent, kept_held) != (spent, held):
            problems.append(
                f"The budget periods say {kept_spent} spent and {kept_held} held in all (each spend counted in its "
                f"department and every one above); the spends say {spent} and {held}: a budget period was removed "
                "or changed without a trace (run verify_ledger in full to name it)."
            )
    return problems, notices


def tally_problems(*, scope: str, params: list[Any], written: Written | None = None) -> list[str]:
    """The spend policy's running tallies against the spends they count: posted or held for approval,
    per employee, department, category and the organization's local day (apps/controls SpendTally).

    Read by table, as the budget check reads budget periods: the ledger sits below the app that keeps them.
    With `written`, only the tallies a row written since the point may have changed: those of the
    transactions written since, the tallies written since, and every tally of an organization written since
    (its timezone regroups the days). The totals of every tally against every spend counted then catch a
    tally removed outright.
    """
    if written is None:
        dirty = ""
        dirty_params: list[Any] = []
        counted = f"""
            SELECT t.organization_id, t.employee_id, t.department_id, t.category,
                   (t.created_at AT TIME ZONE o.timezone)::date AS day, sum(t.amount_minor) AS total
            FROM ledger_transaction t JOIN tenancy_organization o ON o.id = t.organization_id
            WHERE {_COUNTED_BY_TALLIES} {scope.format(alias="t")}
            GROUP BY 1, 2, 3, 4, 5"""
        kept_in_dirty = ""
    else:
        keys = _rows(
            f"""
            SELECT t.organization_id, t.employee_id, t.department_id, t.category,
                   (t.created_at AT TIME ZONE o.timezone)::date
            FROM ledger_transaction t JOIN tenancy_organization o ON o.id = t.organization_id
            WHERE (t.id = ANY(%s) OR t.organization_id = ANY(%s)) {scope.format(alias="t")}
            UNION
            SELECT s.organization_id, s.employee_id, s.department_id, s.category, s.day
            FROM controls_spendtally s
            WHERE ({written.since.written("s")} OR s.organization_id = ANY(%s)) {scope.format(alias="s")}
            """,
            [
                written.transaction_ids,
                written.organization_ids,
                *params,
                *written.since.params,
                written.organization_ids,
                *params,
            ],
        )
        dirty = """
            dirty(organization_id, employee_id, department_id, category, day) AS (
                SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::date[])
            ),"""
        dirty_params = [[key[column] for key in keys] for column in range(5)]
        # An employee's spends of one local day, through txn_employee_created.
        counted = f"""
            SELECT k.organization_id, k.employee_id, k.department_id, k.category, k.day, sum(t.amount_minor) AS total
            FROM dirty k JOIN tenancy_organization o ON o.id = k.organization_id
            JOIN ledger_transaction t ON t.employee_id = k.employee_id
                 AND t.created_at >= k.day::timestamp AT TIME ZONE o.timezone
                 AND t.created_at < (k.day + 1)::timestamp AT TIME ZONE o.timezone
                 AND (t.organization_id, t.department_id, t.category) = (k.organization_id, k.department_id, k.category)
            WHERE {_COUNTED_BY_TALLIES}
            GROUP BY 1, 2, 3, 4, 5"""
        kept_in_dirty = """AND (s.organization_id, s.employee_id, s.department_id, s.category, s.day)
                 IN (SELECT * FROM dirty)"""
    problems = [
        f"Spend tally of {email} in '{department}', category '{category}', on {day}: {kept} kept, "
        f"the spends posted or held total {counted}."
        for email, department, category, day, kept, counted in _rows(
            f"""
            WITH {dirty}
            counted AS ({counted}
            ),
            kept AS (
                SELECT s.organization_id, s.employee_id, s.department_id, s.category, s.day,
                       sum(s.amount_minor) AS total
                FROM controls_spendtally s WHERE true {scope.format(alias="s")} {kept_in_dirty}
                GROUP BY 1, 2, 3, 4, 5
            )
            SELECT u.email, d.name, category, day, coalesce(k.total, 0), coalesce(c.total, 0)
            FROM kept k FULL JOIN counted c USING (organization_id, employee_id, department_id, category, day)
            JOIN tenancy_user u ON u.id = coalesce(k.employee_id, c.employee_id)
            JOIN tenancy_department d ON d.id = coalesce(k.department_id, c.department_id)
            WHERE coalesce(k.total, 0) <> coalesce(c.total, 0)
            ORDER BY day, u.email
            """,
            dirty_params + (params if written else params * 2),
        )
    ]
    if written is not None:
        ((kept, counted),) = _rows(
            f"""
            SELECT (SELECT coalesce(sum(s.amount_minor), 0) FROM controls_spendtally s
                    WHERE true {scope.format(alias="s")}),
                   (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transaction t
                    WHERE {_COUNTED_BY_TALLIES} {scope.format(alias="t")})
            """,
            params * 2,
        )
        if kept != counted:
            problems.append(
                f"The spend tallies keep {kept} in all; the spends posted or held total {counted}: a tally was "
                "removed or changed without a trace (run verify_ledger in full to name it)."
            )
    return problems
