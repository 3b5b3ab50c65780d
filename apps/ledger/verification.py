"""verify_ledger: every invariant the architecture promises, checked against the database.

Journals (balanced, two legs that are the transaction's amount on the right accounts in its currency, the
expense one split over a bill's GL lines, two more for a paid reimbursement claim, two or three per payment
and return of a bill, reversals undoing their original on its GL codes), conversions
(each base amount the half-even conversion of the amount as spent at the stored rate), employee payables
(what each is owed equal to the approved claims not paid out), balance checkpoints (each the sum of the
entries it covers), budgets (spent and held per department and month equal to the ledger; spent within
the limit, or within what was spent when a lowered limit froze the budget; held not negative), closed
months (nothing dated into one since its close, its totals those recorded at the close; a reversal
counting in its original's month unless that was closed), the spend policy's tallies (what its limits
count, per employee, department, category and local day, equal to the spends posted or held), the
guarded triggers (present, enabled, their functions unchanged), the hash chain of every organization
recomputed from its first link, and the signed checkpoints over it.

It runs in one REPEATABLE READ, READ ONLY transaction of plain reads: one snapshot for every
check, and no row lock that settlement could wait on. A run that passes in a snapshot of its own records
it as a verified point (verified_points.py). `incremental` recomputes each chain only after its latest
checkpoint that still holds, and checks the journals, budgets and tallies only where rows were written
since the latest verified point; the other checks, small next to those, still cover the whole ledger.
"""

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.tenancy.models import Organization
from ledgerx.chain_checkpoints import chain_verify
from ledgerx.guarded_triggers import guarded_trigger_problems, guarded_triggers

from .accounts_payable import accounts_payable_problems
from .balance_verification import balance_checkpoint_problems
from .budget_verification import budget_problems, tally_problems
from .chain import LEDGER_CHAIN
from .closing_verification import closed_month_problems, reversal_month_problems
from .conversions import conversion_problems
from .models import CREDIT_ACCOUNT_OF_KIND, BalanceCheckpoint, Entry, EntrySeal, Transaction
from .payables import payable_problems
from .verified_points import snapshot_current, verified_point_record, verified_point_since, written_since

STUCK_PENDING_AFTER = timedelta(minutes=2)

Progress = Callable[[str], None]


def _rows(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


_CREDIT_NAMES = {
    "card_funding": "card funding",
    "employee_payable": "its employee's payable",
    "accounts_payable": "accounts payable",
}


def _credit_account_case(kind_sql: str) -> str:
    """CREDIT_ACCOUNT_OF_KIND as SQL: the account kind the journal of a spend of kind `kind_sql` credits."""
    whens = " ".join(f"WHEN '{kind}' THEN '{account}'" for kind, account in CREDIT_ACCOUNT_OF_KIND.items())
    return f"CASE {kind_sql} {whens} END"


# Which journals may carry payout legs (payout clearing or the bank), as SQL and in Python: a posted claim
# its one payout; a posted bill its payments, each returned but perhaps the last.
_PAID_LEGS_FIT = (
    "(status = 'posted' AND (kind = 'reimbursement' AND paid_legs = 1 OR kind = 'bill' AND unreturned IN (0, 1)))"
)
_PAID_OUT_WORDS = {
    "reimbursement": ", then paid out from the employee's payable to payout clearing",
    "bill": ", then paid from accounts payable out of the bank (and back, for each return)",
}


def _paid_legs_fit(kind: str, status: str, paid_legs: int, unreturned: int) -> bool:
    if status != "posted":
        return False
    return (kind == "reimbursement" and paid_legs == 1) or (kind == "bill" and unreturned in (0, 1))


def journal_problems(*, scope: str, params: list[Any]) -> list[str]:
    """Each journal against its transaction. `scope` is `AND {alias}.organization_id = %s` or empty."""
    problems: list[str] = []
    misjournaled: dict[uuid.UUID, str] = {}
    # One pass over the transactions and their entries: a journal balances, and when posted or reversed has
    # its accrual: the amount credited once to the account its kind credits (card funding, the employee's
    # payable for a reimbursement claim, accounts payable for a bill) and debited to the department's expenses
    # (back, for a reversal) on one line, or on several of one sign for a bill split over GL lines, in the
    # transaction's currency. A paid claim has two legs more: its payable debited and payout clearing credited
    # by its amount. A bill has two more per payment (accounts payable debited by its amount, the bank credited
    # by what the payment cost), a third when those differ (realised FX gain/loss), and as many more per
    # return of a payment (the same flipped): paid once more than returned, or as often. What each payment
    # cost is checked against its payment line by accounts_payable_problems.
    for (
        transaction_id,
        kind,
        status,
        amount,
        currency,
        credit,
        entry_count,
        total,
        expense_legs,
        paid_legs,
        fx_legs,
        unreturned,
        fits,
    ) in _rows(
        f"""
        SELECT * FROM (
            SELECT t.id, t.kind, t.status, t.amount_minor, t.currency, leg.credit, count(e.id) AS entry_count,
                   coalesce(sum(e.amount_minor), 0) AS total,
                   count(*) FILTER (WHERE a.kind = 'expense') AS expense_legs,
                   count(*) FILTER (WHERE a.kind IN ('payout_clearing', 'bank')) AS paid_legs,
                   count(*) FILTER (WHERE a.kind = 'fx_gain_loss') AS fx_legs,
                   count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor < 0)
                   - count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor > 0) AS unreturned,
                   count(*) FILTER (
                       WHERE a.kind = leg.credit AND a.employee_id IS NOT DISTINCT FROM leg.payee
                       AND e.amount_minor = -leg.expense
                   ) = 1 + count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor > 0)
                   AND coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = 'expense'), 0) = leg.expense
                   AND count(*) FILTER (
                       WHERE a.kind = 'expense'
                       AND (a.department_id <> t.department_id OR sign(e.amount_minor) <> sign(leg.expense))
                   ) = 0
                   AND (count(*) FILTER (WHERE a.kind = 'expense') = 1 OR leg.split)
                   AND count(*) FILTER (WHERE a.kind = 'payout_clearing' AND e.amount_minor = -t.amount_minor)
                       + count(*) FILTER (WHERE a.kind = 'bank' AND e.amount_minor < 0)
                   = count(*) FILTER (
                       WHERE (
                           t.kind = 'reimbursement' AND a.kind = 'employee_payable' AND a.employee_id = t.employee_id
                           OR t.kind = 'bill' AND a.kind = 'accounts_payable'
                       ) AND e.amount_minor = t.amount_minor
                   )
                   AND count(*) FILTER (WHERE a.kind = 'fx_gain_loss')
                   = count(*) FILTER (WHERE a.kind = 'bank' AND abs(e.amount_minor) <> t.amount_minor)
                   AND NOT coalesce(bool_or(
                       e.currency <> t.currency OR a.currency <> t.currency OR e.organization_id <> t.organization_id
                   ), false) AS fits
            FROM ledger_transaction t
            LEFT JOIN ledger_transaction o ON o.id = t.reversal_of_id
            CROSS JOIN LATERAL (
                SELECT CASE t.kind WHEN 'reversal' THEN -t.amount_minor ELSE t.amount_minor END AS expense,
                       {_credit_account_case("coalesce(o.kind, t.kind)")} AS credit,
                       CASE coalesce(o.kind, t.kind) WHEN 'reimbursement' THEN t.employee_id END AS payee,
                       coalesce(o.kind, t.kind) = 'bill' AS split
            ) leg
            LEFT JOIN ledger_entry_history e ON e.transaction_id = t.id
            LEFT JOIN ledger_account a ON a.id = e.account_id
            WHERE true {scope.format(alias="t")}
            GROUP BY t.id, t.organization_id, leg.expense, leg.credit, leg.payee, leg.split
        ) journal
        WHERE total <> 0
           OR entry_count <> CASE WHEN status IN ('posted', 'reversed') THEN 1 + expense_legs ELSE 0 END
                             + 2 * paid_legs + fx_legs
           OR (paid_legs > 0 AND NOT {_PAID_LEGS_FIT})
           OR (entry_count >= 2 AND NOT fits)
        """,
        params,
    ):
        expected = (1 + expense_legs if status in ("posted", "reversed") else 0) + 2 * paid_legs + fx_legs
        if total:
            problems.append(f"Journal of transaction {transaction_id} sums to {total}, not zero.")
        if paid_legs and not _paid_legs_fit(kind, status, paid_legs, unreturned):
            problems.append(f"{kind.capitalize()} {transaction_id} ({status}) has {paid_legs} payout legs.")
        elif entry_count != expected:
            problems.append(f"{kind.capitalize()} {transaction_id} ({status}) has {entry_count} entries.")
        elif entry_count >= 2 and not fits:
            leg = -amount if kind == "reversal" else amount
            misjournaled[transaction_id] = (
                f"{kind.capitalize()} {transaction_id} ({status}) of {amount} {currency} should be journaled as "
                f"{-leg} on {_CREDIT_NAMES[credit]} and {leg} on its department's expenses"
                + (_PAID_OUT_WORDS[kind] if paid_legs else "")
                + f", in {currency}; its entries are "
            )
    if misjournaled:
        for transaction_id, legs in _rows(
            """
            SELECT e.transaction_id,
                   string_agg(e.amount_minor || ' ' || e.currency || ' on '
                       || CASE a.kind WHEN 'card_funding' THEN 'card funding'
                          WHEN 'payout_clearing' THEN 'payout clearing'
                          WHEN 'accounts_payable' THEN 'accounts payable'
                          WHEN 'bank' THEN 'the bank'
                          WHEN 'fx_gain_loss' THEN 'realised FX gain/loss'
                          WHEN 'employee_payable' THEN 'the payable to ' || coalesce(u.email, '?')
                          ELSE 'the expenses of ''' || coalesce(d.name, '?') || '''' END
                       || CASE WHEN a.currency <> e.currency THEN ' (a ' || a.currency || ' account)' ELSE '' END,
                       ', ' ORDER BY e.id)
            FROM ledger_entry_history e
            JOIN ledger_account a ON a.id = e.account_id
            LEFT JOIN tenancy_department d ON d.id = a.department_id
            LEFT JOIN tenancy_user u ON u.id = a.employee_id
            WHERE e.transaction_id = ANY(%s)
            GROUP BY e.transaction_id
            """,
            [list(misjournaled)],
        ):
            problems.append(f"{misjournaled[transaction_id]}{legs}.")

    for reversal_id, amount, currency, original_id, original_amount, original_currency in _rows(
        f"""
        SELECT r.id, r.amount_minor, r.currency, o.id, o.amount_minor, o.currency
        FROM ledger_transaction r JOIN ledger_transaction o ON o.id = r.reversal_of_id
        WHERE (r.amount_minor, r.currency, r.department_id,
               r.original_amount_minor, r.original_currency, r.fx_rate, r.fx_rate_date)
              IS DISTINCT FROM (o.amount_minor, o.currency, o.department_id,
               o.original_amount_minor, o.original_currency, o.fx_rate, o.fx_rate_date) {scope.format(alias="r")}
        """,
        params,
    ):
        problems.append(
            f"Reversal {reversal_id} of {amount} {currency} does not undo its original {original_id} of "
            f"{original_amount} {original_currency} (same amount, currency and department, and the same amount "
            "as spent at the same rate)."
        )

    # A reversal posts to its original's GL codes and cost centres, whatever the chart says since (chart.py).
    for reversal_id, original_id in _rows(
        f"""
        SELECT r.id, r.reversal_of_id FROM ledger_transaction r
        WHERE r.kind = 'reversal' {scope.format(alias="r")} AND EXISTS (
            SELECT FROM ledger_entry_history re WHERE re.transaction_id = r.id AND NOT EXISTS (
                SELECT FROM ledger_entry_history oe WHERE oe.transaction_id = r.reversal_of_id
                AND (oe.account_id, oe.gl_code, oe.cost_centre) = (re.account_id, re.gl_code, re.cost_centre)))
        """,
        params,
    ):
        problems.append(
            f"Reversal {reversal_id} does not post to the GL codes and cost centres of its original {original_id}."
        )

    for transaction_id, status, reversal_id in _rows(
        f"""
        SELECT t.id, t.status, r.id FROM ledger_transaction t
        LEFT JOIN ledger_transaction r ON r.reversal_of_id = t.id
        WHERE t.kind IN ('spend', 'reimbursement', 'bill') AND ((t.status = 'reversed') <> (r.id IS NOT NULL))
              {scope.format(alias="t")}
        """,
        params,
    ):
        problems.append(
            f"Spend {transaction_id} is {status} but "
            + ("has reversal " + str(reversal_id) if reversal_id else "has no reversal")
            + "."
        )
    return problems


def ledger_verify(
    *, organization: Organization | None = None, incremental: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Check every invariant of the ledger against the database. `ok` is False when any problem is found.

    Outside a transaction it opens its own REPEATABLE READ, READ ONLY one; inside one (a test, a
    caller's atomic block) it reads in that.
    """
    if connection.in_atomic_block:
        return _verify(
            organization=organization, incremental=incremental, progress=progress, snapshot=snapshot_current()
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = snapshot_current()
        report = _verify(organization=organization, incremental=incremental, progress=progress, snapshot=snapshot)
    # Only a snapshot of its own is a point: a caller's transaction shows the run its own uncommitted writes.
    if report["ok"]:
        verified_point_record(organization=organization, snapshot=snapshot, incremental=incremental)
    return report


def _verify(
    *, organization: Organization | None, incremental: bool, progress: Progress | None, snapshot: str
) -> dict[str, Any]:
    started = time.monotonic()

    def report(message: str) -> None:
        if progress:
            progress(f"[{time.monotonic() - started:7.1f}s] {message}")

    scope = "" if organization is None else "AND {alias}.organization_id = %s"
    params = [] if organization is None else [organization.id]
    problems: list[str] = []
    notices: list[str] = []
    written = None
    if incremental:
        since, problems = verified_point_since(organization=organization, snapshot=snapshot)
        if since is None:
            notices.append("No verified point to resume from: the journals, budgets and tallies were checked whole.")
        else:
            written = written_since(since, scope=scope, params=params)
            count = len(written.transaction_ids)
            notices.append(
                f"Resumed from the point {since.point}: the journals, budgets and tallies of the "
                f"{count} transaction{'' if count == 1 else 's'} written since checked again, the others' as "
                "verified then."
            )
            report(f"{count} transactions written since {since.point}")
    if written is None:
        problems += journal_problems(scope=scope, params=params)
    else:
        problems += journal_problems(
            scope=f"{scope} AND {{alias}}.id = ANY(%s)", params=[*params, written.transaction_ids]
        )
    report("journals checked against their transactions")
    problems += conversion_problems(scope=scope, params=params)
    report("conversions into the base currency checked against their stored rates")
    budget_period_problems, budget_notices = budget_problems(scope=scope, params=params, written=written)
    problems += budget_period_problems
    notices += budget_notices
    report("budget periods checked against the ledger and their limits")
    problems += tally_problems(scope=scope, params=params, written=written)
    report("spend policy tallies checked against the spends")
    problems += payable_problems(scope=scope, params=params)
    report("employee payables checked against the claims and their payouts")
    problems += accounts_payable_problems(scope=scope, params=params)
    report("accounts payable and the bank checked against the bills and their payments")
    problems += balance_checkpoint_problems(scope=scope, params=params)
    report("balance checkpoints checked against the entries they cover")
    problems += closed_month_problems(scope=scope, params=params) + reversal_month_problems(scope=scope, params=params)
    report("closed months checked against their closes, and reversals against their months")
    triggers = guarded_triggers()
    problems += guarded_trigger_problems(triggers)
    report(f"{len(triggers)} guarded triggers checked")

    stuck = Transaction.objects.filter(
        status=Transaction.Status.PENDING, created_at__lt=timezone.now() - STUCK_PENDING_AFTER
    )
    if organization is not None:
        stuck = stuck.filter(organization=organization)
    stuck_count = stuck.count()
    if stuck_count:
        problems.append(f"{stuck_count} transactions have been pending for more than {STUCK_PENDING_AFTER}.")

    organizations = [organization] if organization else Organization.objects.order_by("slug")
    chain_report = chain_verify(
        LEDGER_CHAIN,
        chains=[(each.id, f"organization '{each.slug}'") for each in organizations],
        scope=None if organization is None else organization.id,
        incremental=incremental,
        report=report,
    )
    problems += chain_report.problems
    notices += chain_report.notices

    def of(model):
        return model.objects.all() if organization is None else model.objects.filter(organization=organization)

    return {
        "ok": not problems,
        "problems": problems,
        "notices": notices,
        "checked": {
            "transactions": of(Transaction).count(),
            "entries": of(Entry).count(),
            "triggers": len(triggers),
            "sealed_entries": of(EntrySeal).count(),
            "chain_links_recomputed": chain_report.links_recomputed,
            "checkpoints": chain_report.checkpoints,
            "balance_checkpoints": of(BalanceCheckpoint).count(),
        },
    }
