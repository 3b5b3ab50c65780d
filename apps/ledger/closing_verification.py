"""verify_ledger's checks of month-end close (closing.py): a closed month is as it was closed, and the
reversals of its spends counted where they were allowed to."""

from typing import Any

from django.db import connection


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def closed_month_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Each month whose latest act is a close against what the close recorded: no entry dated into it
    since (an id above the organization's highest at the close), and its entries up to the close still
    of the count and totals recorded. `scope` is `AND {alias}.organization_id = %s` or empty."""
    problems: list[str] = []
    for slug, month, high_water, recorded, found, late in _rows(
        f"""
        WITH closed AS (
            SELECT latest.*, o.slug, o.timezone FROM (
                SELECT DISTINCT ON (c.organization_id, c.month) c.* FROM ledger_monthclose c
                WHERE true {scope.format(alias="c")}
                ORDER BY c.organization_id, c.month, c.id DESC
            ) latest JOIN tenancy_organization o ON o.id = latest.organization_id
            WHERE latest.act = 'closed'
        )
        SELECT k.slug, k.month, k.entry_high_water,
               ARRAY[k.entry_count, k.debits_minor, k.credits_minor],
               ARRAY[count(e.id) FILTER (WHERE e.id <= k.entry_high_water),
                     coalesce(sum(e.amount_minor) FILTER (WHERE e.id <= k.entry_high_water AND e.amount_minor > 0), 0),
                     coalesce(-sum(e.amount_minor) FILTER (WHERE e.id <= k.entry_high_water AND e.amount_minor < 0), 0)
               ]::bigint[],
               count(e.id) FILTER (WHERE e.id > k.entry_high_water)
        FROM closed k
        LEFT JOIN ledger_entry_history e ON e.organization_id = k.organization_id
             AND e.created_at >= k.month::timestamp AT TIME ZONE k.timezone
             AND e.created_at < (k.month + interval '1 month')::timestamp AT TIME ZONE k.timezone
        GROUP BY k.id, k.slug, k.month, k.entry_high_water, k.entry_count, k.debits_minor, k.credits_minor
        ORDER BY k.slug, k.month
        """,
        params,
    ):
        if late:
            problems.append(
                f"{late} entries of organization '{slug}' are dated into {month:%Y-%m} after it was closed "
                f"(ids above {high_water}, the highest at its close)."
            )
        if list(found) != list(recorded):
            problems.append(
                f"Closed month {month:%Y-%m} of organization '{slug}' has {found[0]} entries, {found[1]} debits and "
                f"{found[2]} credits up to its close; the close recorded {recorded[0]}, {recorded[1]} and "
                f"{recorded[2]}."
            )
    return problems


def reversal_month_problems(*, scope: str, params: list[Any]) -> list[str]:
    """A reversal counts in its original's budget month, or, when that month was closed as it was
    posted, in the month it was posted in (the organization's timezone)."""
    return [
        f"Reversal {reversal_id} counts in {month:%Y-%m}, its original {original_id} in {original_month:%Y-%m}: "
        "a reversal counts in its original's month, unless that month was closed when it was posted."
        for reversal_id, month, original_id, original_month in _rows(
            f"""
            SELECT r.id, r.budget_month, o.id, o.budget_month
            FROM ledger_transaction r
            JOIN ledger_transaction o ON o.id = r.reversal_of_id
            JOIN tenancy_organization g ON g.id = r.organization_id
            WHERE r.budget_month <> o.budget_month {scope.format(alias="r")}
              AND NOT (
                  r.budget_month = date_trunc('month', r.created_at AT TIME ZONE g.timezone)::date
                  AND (
                      SELECT c.act FROM ledger_monthclose c
                      WHERE c.organization_id = o.organization_id AND c.month = o.budget_month
                            AND c.acted_at <= r.created_at
                      ORDER BY c.id DESC LIMIT 1
                  ) = 'closed'
              )
            ORDER BY r.created_at, r.id
            """,
            params,
        )
    ]
