"""verify_ledger --incremental: the journals, budgets and tallies checked only where rows were written since
the latest verified point (apps/ledger/verified_points.py), and still every tamper of those kinds found.

Each tamper is done as the database owner after a passing run has recorded its point, and committed; the
incremental run must name it as the full run does (or, for a row deleted outright, say what the totals
show). Hence transaction=True.
"""

import threading
import zoneinfo

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.budgets.models import BudgetPeriod
from apps.ledger import chain
from apps.ledger.models import Transaction, VerifiedPoint
from apps.ledger.verification import ledger_verify
from tests.owner import owner_connection_kwargs, owner_cursor, triggers_off
from tests.spends import spend_reverse, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)

_AMOUNT_EDIT = "UPDATE ledger_transaction SET amount_minor = %(a)s, original_amount_minor = %(a)s WHERE id = %(id)s"


def _verified_point(tenant, *amounts: str) -> list[Transaction]:
    """Spends settled and sealed, then a passing full run: the point the incremental runs resume from."""
    spends = [spend_settled(tenant.employee, amount) for amount in amounts]
    chain.ledger_seal_all()
    report = ledger_verify()
    assert report["ok"], report["problems"]
    return spends


def _incremental(organization=None) -> dict:
    return ledger_verify(organization=organization, incremental=True)


def _resumed(report: dict) -> bool:
    return any(notice.startswith("Resumed from the point") for notice in report["notices"])


def _amount_edited(tenant, spend):
    with owner_cursor() as cursor:
        cursor.execute(_AMOUNT_EDIT, {"a": 100000, "id": spend.id})
    return f"Spend {spend.id} (posted) of 100000 USD should be journaled as"


def _entry_edited(tenant, spend):
    # Both legs raised alike: the journal still balances, only its amount against the transaction's tells.
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute("UPDATE ledger_entry SET amount_minor = amount_minor * 2 WHERE transaction_id = %s", [spend.id])
    return f"Spend {spend.id} (posted) of 1000 USD should be journaled as"


def _status_edited(tenant, spend):
    with owner_cursor() as cursor:
        cursor.execute("UPDATE ledger_transaction SET status = 'rejected' WHERE id = %s", [spend.id])
    return f"Spend {spend.id} (rejected) has 2 entries."


def _reversal_unlinked(tenant, spend):
    spend_reverse(tenant.finance, spend)
    chain.ledger_seal_all()
    assert ledger_verify()["ok"]
    with owner_cursor() as cursor:
        cursor.execute("UPDATE ledger_transaction SET status = 'posted' WHERE id = %s", [spend.id])
    return f"Spend {spend.id} is posted but has reversal"


def _period_edited(tenant, spend):
    with owner_cursor() as cursor, triggers_off(cursor, "budgets_budgetperiod"):
        cursor.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = spent_minor + 700 WHERE department_id = %s AND month = %s",
            [spend.department_id, spend.budget_month],
        )
    return f"Budget of 'Engineering' for {spend.budget_month:%Y-%m} says 3700 spent, the ledger says 3000."


def _period_deleted(tenant, spend):
    period = BudgetPeriod.objects.get(department_id=spend.department_id, month=spend.budget_month)
    with owner_cursor() as cursor, triggers_off(cursor, "budgets_budgetperiod"):
        cursor.execute("DELETE FROM budgets_budgetperiod WHERE id = %s", [period.id])
    return "a budget period was removed or changed without a trace"


def _tally_edited(tenant, spend):
    with owner_cursor() as cursor:
        cursor.execute(
            "UPDATE controls_spendtally SET amount_minor = amount_minor + 500 WHERE employee_id = %s",
            [spend.employee_id],
        )
    day = timezone.localtime(spend.created_at, zoneinfo.ZoneInfo(tenant.organization.timezone)).date()
    return f"Spend tally of {tenant.employee.email} in 'Engineering', category 'equipment', on {day}: 3500 kept"


def _tally_deleted(tenant, spend):
    with owner_cursor() as cursor:
        cursor.execute("DELETE FROM controls_spendtally WHERE employee_id = %s", [spend.employee_id])
    return "a tally was removed or changed without a trace"


@pytest.mark.parametrize(
    "tamper",
    [
        _amount_edited,
        _entry_edited,
        _status_edited,
        _reversal_unlinked,
        _period_edited,
        _period_deleted,
        _tally_edited,
        _tally_deleted,
    ],
)
def test_a_tamper_after_the_point_is_found_by_the_incremental_run(tenant, tamper):
    spend, _ = _verified_point(tenant, "10.00", "20.00")

    named = tamper(tenant, spend)

    report = _incremental()
    assert _resumed(report), report["notices"]
    assert not report["ok"]
    assert any(named in problem for problem in report["problems"]), report["problems"]
    assert not ledger_verify()["ok"]


def test_only_the_transactions_written_since_the_point_are_checked_again(tenant):
    _verified_point(tenant, "10.00", "20.00", "30.00")
    spend_settled(tenant.employee, "40.00")
    chain.ledger_seal_all()

    report = _incremental()

    assert report["ok"], report["problems"]
    assert "the 1 transaction written since checked again" in " ".join(report["notices"])
    # The passing run is itself a point: the next one has nothing written since.
    assert "the 0 transactions written since" in " ".join(_incremental()["notices"])


def test_a_change_committed_after_the_points_snapshot_began_is_written_since(tenant):
    """A write in flight while the passing run read, committed after it: the point is the snapshot's xmin,
    not the moment, so the next incremental run still counts it as written since."""
    spend, _ = _verified_point(tenant, "10.00", "20.00")
    with psycopg.connect(**owner_connection_kwargs()) as tamperer:
        tamperer.execute(_AMOUNT_EDIT, {"a": 100000, "id": spend.id})
        report = ledger_verify()  # the edit is not committed: the run cannot see it, and passes
        assert report["ok"], report["problems"]
        tamperer.commit()

    report = _incremental()

    assert _resumed(report)
    assert any(f"Spend {spend.id} (posted) of 100000 USD" in problem for problem in report["problems"])


def test_a_change_in_a_savepoint_of_a_transaction_running_at_the_point_is_written_since(tenant):
    """A savepoint writes with a transaction id of its own, which the snapshot's list of running transactions
    leaves out: the point resumes from the snapshot's xmin, below its parent's id."""
    spend, _ = _verified_point(tenant, "10.00", "20.00")
    with psycopg.connect(**owner_connection_kwargs()) as tamperer:
        tamperer.execute("SELECT pg_current_xact_id()")
        with tamperer.transaction():
            tamperer.execute(_AMOUNT_EDIT, {"a": 100000, "id": spend.id})
        assert ledger_verify()["ok"]
        tamperer.commit()

    report = _incremental()

    assert _resumed(report)
    assert any(f"Spend {spend.id} (posted) of 100000 USD" in problem for problem in report["problems"])


def test_spends_settled_while_a_run_reads_are_checked_by_the_next(tenant):
    """Settlement racing a verification: whatever it commits during the run is checked by the next run."""
    _verified_point(tenant, "10.00")
    settled: list[Transaction] = []

    def settle() -> None:
        try:
            for _ in range(5):
                settled.append(spend_settled(tenant.employee, "1.00"))
        finally:
            connection.close()

    racer = threading.Thread(target=settle)
    racer.start()
    while racer.is_alive():
        assert ledger_verify(incremental=True)["ok"]
    racer.join()
    chain.ledger_seal_all()

    report = _incremental()
    assert report["ok"], report["problems"]
    assert len(settled) == 5
    assert ledger_verify()["ok"]


def test_a_point_whose_signature_does_not_hold_is_named_and_not_resumed_from(tenant):
    spend, _ = _verified_point(tenant, "10.00", "20.00")
    point = VerifiedPoint.objects.latest("snapshot_xmax")
    # The amount edited after the point, and the point moved past the edit, as a tamperer would.
    _amount_edited(tenant, spend)
    with owner_cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        (moved,) = cursor.fetchone()
        cursor.execute(
            "UPDATE ledger_verifiedpoint SET snapshot = %s,"
            " snapshot_xmax = pg_snapshot_xmax(%s::pg_snapshot)::text::bigint WHERE id = %s",
            [moved, moved, point.id],
        )

    report = _incremental()

    assert (
        f"Verified point {point.id} (verified at {point.verified_at:%Y-%m-%d %H:%M}) does not carry a valid "
        "signature: skipped."
    ) in report["problems"]
    assert not _resumed(report)
    assert any(f"Spend {spend.id} (posted) of 100000 USD" in problem for problem in report["problems"])


def test_without_a_point_the_incremental_run_checks_everything(tenant):
    spend_settled(tenant.employee, "10.00")
    chain.ledger_seal_all()

    report = _incremental()

    assert report["ok"], report["problems"]
    assert (
        "No verified point to resume from: the journals, budgets and tallies were checked whole." in (report["notices"])
    )


def test_only_a_passing_run_in_a_snapshot_of_its_own_records_a_point(tenant, other_tenant):
    spend, _ = _verified_point(tenant, "10.00", "20.00")
    points = VerifiedPoint.objects.count()
    with transaction.atomic():
        assert ledger_verify()["ok"]
    assert VerifiedPoint.objects.count() == points

    _amount_edited(tenant, spend)
    assert not ledger_verify()["ok"]
    assert VerifiedPoint.objects.count() == points


def test_an_organizations_point_covers_it_alone_and_the_whole_ledgers_covers_each(tenant, other_tenant):
    spend_settled(other_tenant.employee, "10.00")
    chain.ledger_seal_all()
    assert ledger_verify(organization=tenant.organization)["ok"]

    assert not _resumed(_incremental())  # the whole ledger has no point of its own yet
    assert _resumed(_incremental(other_tenant.organization))  # the whole ledger's run just above
    assert VerifiedPoint.objects.filter(organization_id=tenant.organization.id).exists()
