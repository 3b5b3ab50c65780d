"""The per-organization hash chain over ledger entries, and verify_ledger recomputing it.

Every test here uses transaction=True: settlement takes its advisory lock outside any
transaction and commits for real, and the late-commit and tamper tests need real commits.
"""

import itertools
import threading
from datetime import timedelta

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from apps.budgets.totals import budget_periods_open
from apps.controls.services import spend_tallies_add
from apps.ledger import chain
from apps.ledger.models import Account, Entry, EntrySeal, Transaction
from apps.ledger.selectors import ledger_verify
from ledgerx.celery import app as celery_app
from ledgerx.months import month_start
from tests.conftest import run_in_threads
from tests.factories import DepartmentFactory
from tests.owner import owner_cursor
from tests.spends import spend_reverse, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)


def _sealed_sequences(organization):
    return list(EntrySeal.objects.of(organization).order_by("sequence").values_list("sequence", "entry_id"))


def _tamper(sql: str, params: list, table: str = "ledger_entry") -> None:
    """Change a ledger row below the application, as the owner with the triggers switched off.

    Statement by statement (autocommit): the deferred foreign-key checks of the change must run
    before the triggers can be switched back on.
    """
    with owner_cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def test_sealer_chains_every_entry_in_order_and_verify_is_ok(tenant, api):
    spends = [spend_settled(tenant.employee, amount) for amount in ("10.00", "20.00", "30.00")]
    spend_reverse(tenant.finance, spends[1])

    assert chain.ledger_seal_all() == 8
    assert chain.ledger_seal_all() == 0

    entry_ids = list(Entry.objects.of(tenant.organization).order_by("id").values_list("id", flat=True))
    assert _sealed_sequences(tenant.organization) == list(enumerate(entry_ids, start=1))
    seals = list(EntrySeal.objects.of(tenant.organization).order_by("sequence"))
    assert seals[0].prev_hash == chain.GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(seals))
    report = ledger_verify(organization=tenant.organization)
    assert report["ok"], report["problems"]
    assert report["checked"]["sealed_entries"] == 8

    body = api(tenant.finance).get(f"/api/v1/ledger/entries?transaction={spends[0].id}").json()
    assert {entry["hash"] for entry in body["results"]} == {
        seal.hash for seal in seals if seal.entry.transaction_id == spends[0].id
    }


def test_one_sealer_run_visits_each_organization_once(tenant, django_assert_max_num_queries):
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        spend_settled(tenant.employee, amount)
    # One query to find the organizations, then one batch: lock, last link, unsealed entries, insert,
    # and its checkpoint (the latest one, the new one); BEGIN and COMMIT count too.
    with django_assert_max_num_queries(9):
        assert chain.ledger_seal_all() == 10


def test_each_organization_has_its_own_chain(tenant, other_tenant):
    spend_settled(tenant.employee, "10.00")
    spend_settled(other_tenant.employee, "15.00")
    chain.ledger_seal_all()
    assert [sequence for sequence, _ in _sealed_sequences(tenant.organization)] == [1, 2]
    assert [sequence for sequence, _ in _sealed_sequences(other_tenant.organization)] == [1, 2]
    assert ledger_verify()["ok"]


def test_an_entry_changed_below_the_application_is_named_by_verify(tenant):
    spend_settled(tenant.employee, "10.00")
    target = spend_settled(tenant.employee, "20.00")
    spend_settled(tenant.employee, "30.00")
    chain.ledger_seal_all()
    entry = Entry.objects.filter(transaction=target, amount_minor__gt=0).get()

    # Move the spend to another department's account: the journal still balances, so only the chain sees it.
    elsewhere = DepartmentFactory(organization=tenant.organization, name="Sales")
    _tamper("UPDATE ledger_entry SET account_id = %s WHERE id = %s", [elsewhere.expense_account.id, entry.id])

    report = ledger_verify(organization=tenant.organization)
    assert not report["ok"]
    chain_problems = [p for p in report["problems"] if "sealed" in p]
    assert chain_problems == [
        f"Entry {entry.id} was changed after it was sealed: it no longer matches its hash "
        f"(sequence {entry.seal.sequence})."
    ]
    with pytest.raises(CommandError, match="problems found"):
        call_command("verify_ledger", "--organization", tenant.organization.slug)


def test_an_amount_changed_on_both_legs_is_named_by_verify(tenant):
    spend = spend_settled(tenant.employee, "10.00")
    chain.ledger_seal_all()
    legs = list(Entry.objects.filter(transaction=spend).order_by("id"))

    _tamper("UPDATE ledger_entry SET amount_minor = amount_minor * 100 WHERE transaction_id = %s", [spend.id])

    problems = ledger_verify(organization=tenant.organization)["problems"]
    for leg in legs:
        assert any(p.startswith(f"Entry {leg.id} was changed after it was sealed") for p in problems), problems


def test_a_removed_link_is_reported(tenant):
    for amount in ("10.00", "20.00"):
        spend_settled(tenant.employee, amount)
    chain.ledger_seal_all()
    second = EntrySeal.objects.of(tenant.organization).get(sequence=2)
    _tamper("DELETE FROM ledger_entryseal WHERE id = %s", [second.id], table="ledger_entryseal")

    problems = ledger_verify(organization=tenant.organization)["problems"]
    assert any("links are missing" in p for p in problems), problems
    assert any(p.startswith("Entry ") and "does not follow the link before it" in p for p in problems), problems


def test_an_entry_committed_late_is_sealed_on_the_next_run_not_skipped(tenant):
    """A journal whose transaction takes its ids first but commits after a later one was sealed."""
    late_department = DepartmentFactory(organization=tenant.organization, name="Research", monthly_limit_minor=10_000)
    ids_taken = threading.Event()
    commit_now = threading.Event()
    late_entry_ids: list[int] = []

    def late_settlement() -> None:
        # By hand, a settlement of one spend that stays open: a transaction, its two entries, its budget.
        try:
            with transaction.atomic():
                now = timezone.now()
                month = month_start(now, tenant.organization.timezone)
                spend = Transaction.objects.create(
                    organization=tenant.organization,
                    status=Transaction.Status.POSTED,
                    amount_minor=500,
                    currency="USD",
                    original_amount_minor=500,
                    original_currency="USD",
                    fx_rate=1,
                    merchant="Late",
                    category="equipment",
                    department=late_department,
                    employee=tenant.admin,
                    created_by=tenant.admin,
                    budget_month=month,
                    idempotency_key="late-1",
                    request_fingerprint="late",
                    processed_at=now,
                )
                card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
                legs = Entry.objects.bulk_create(
                    [
                        Entry(
                            organization=tenant.organization,
                            transaction=spend,
                            account=account,
                            amount_minor=amount_minor,
                            currency="USD",
                        )
                        for account, amount_minor in ((card, -500), (late_department.expense_account, 500))
                    ]
                )
                late_entry_ids.extend(leg.id for leg in legs)
                budget_periods_open(department_ids=[late_department.id], month=month)
                late_department.budget_periods.filter(month=month).update(spent_minor=500)
                spend_tallies_add(organization=tenant.organization, spends=[spend])  # as settlement counts it
                ids_taken.set()
                assert commit_now.wait(timeout=30)
        finally:
            connections.close_all()

    writer = threading.Thread(target=late_settlement)
    writer.start()
    assert ids_taken.wait(timeout=30)
    on_time = spend_settled(tenant.employee, "10.00")
    assert chain.ledger_seal_all() == 2  # the on-time journal, with higher ids; the late one is not visible yet
    sealed_first = set(EntrySeal.objects.of(tenant.organization).values_list("entry_id", flat=True))
    assert sealed_first == set(Entry.objects.filter(transaction=on_time).values_list("id", flat=True))
    assert min(sealed_first) > max(late_entry_ids)

    commit_now.set()
    writer.join()
    assert chain.ledger_seal_all() == 2
    assert sorted(entry_id for _, entry_id in _sealed_sequences(tenant.organization)[2:]) == sorted(late_entry_ids)
    report = ledger_verify(organization=tenant.organization)
    assert report["ok"], report["problems"]


def test_concurrent_sealers_seal_each_entry_once(tenant):
    for amount in ("1.00", "2.00", "3.00", "4.00"):
        spend_settled(tenant.employee, amount)

    counts = run_in_threads(4, lambda index: chain.entries_seal(organization_id=tenant.organization.id))

    assert sum(counts) == 8
    assert [sequence for sequence, _ in _sealed_sequences(tenant.organization)] == list(range(1, 9))
    assert ledger_verify(organization=tenant.organization)["ok"]


def test_seals_are_append_only(tenant):
    spend_settled(tenant.employee, "10.00")
    chain.ledger_seal_all()
    seal = EntrySeal.objects.of(tenant.organization).first()
    # The application role may only append; the owner, who may do more, meets the triggers.
    with pytest.raises(DatabaseError, match="permission denied"):
        EntrySeal.objects.filter(id=seal.id).update(hash="0" * 64)
    with pytest.raises(DatabaseError, match="permission denied"):
        EntrySeal.objects.filter(id=seal.id).delete()
    with pytest.raises(DatabaseError, match="permission denied"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE ledger_entryseal")
    for statement in (
        "UPDATE ledger_entryseal SET hash = repeat('0', 64)",
        "DELETE FROM ledger_entryseal",
        "TRUNCATE ledger_entryseal",
    ):
        with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
            cursor.execute(statement)
    assert EntrySeal.objects.filter(id=seal.id, hash=seal.hash).exists()


def test_old_unsealed_entries_are_a_problem_recent_ones_a_notice(tenant):
    spend = spend_settled(tenant.employee, "10.00")
    report = ledger_verify(organization=tenant.organization)
    assert report["ok"]
    assert report["notices"] == ["2 recent entries are waiting for the sealer."]

    _tamper(
        "UPDATE ledger_entry SET created_at = %s WHERE transaction_id = %s",
        [timezone.now() - chain.UNSEALED_PROBLEM_AFTER - timedelta(minutes=1), spend.id],
    )
    first = Entry.objects.filter(transaction=spend).order_by("id").first()
    report = ledger_verify(organization=tenant.organization)
    assert (
        f"2 entries older than {chain.UNSEALED_PROBLEM_AFTER} are not sealed (first: entry {first.id})."
        in (report["problems"])
    )


def test_the_sealer_runs_on_beat_on_the_default_queue():
    assert celery_app.conf.beat_schedule["seal-ledger"]["task"] == "apps.ledger.tasks.seal_ledger"
    route = celery_app.amqp.router.route({}, "apps.ledger.tasks.seal_ledger")
    assert route["queue"].name == "default"
    assert celery_app.amqp.router.route({}, "apps.ledger.tasks.settle_pending")["queue"].name == "settlement"
