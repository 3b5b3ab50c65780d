"""The entries' monthly partitions (migration 0028, apps/ledger/partitions.py): the roll, archiving a closed
month's partitions with verify_ledger still passing, and the migrations over a populated ledger.

The partitions are the database's, not a test's rows: what a test rolls stays. So each test rolls to months
after the last partition there is, whatever earlier runs left, and drops what it archived.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.ledger import chain
from apps.ledger.closing import month_close
from apps.ledger.models import Entry, EntryPartition, EntrySeal
from apps.ledger.partitions import ArchiveRefused, entry_month_archive, entry_partitions, entry_partitions_roll
from apps.ledger.verification import ledger_verify
from ledgerx import db_roles
from ledgerx.guarded_triggers import guarded_trigger_problems
from ledgerx.months import month_following
from tests.owner import owner_cursor, triggers_off
from tests.spends import spend_reverse, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)

SPAN = 1 << 32
IN_OCTOBER = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
IN_NOVEMBER = datetime(2025, 11, 12, 12, 0, tzinfo=UTC)
OCTOBER = date(2025, 10, 1)


def _begins(month: date) -> datetime:
    return datetime(month.year, month.month, 1, 0, 30, tzinfo=UTC)


def _roll_to_new_month() -> EntryPartition:
    """Roll to the month after the last partition: it begins, and its ids are the next ones issued."""
    month = month_following(entry_partitions()[-1].month)
    entry_partitions_roll(moment=_begins(month))
    return EntryPartition.objects.get(month=month)


@pytest.fixture
def archive_dropped():
    """What a test archived is dropped after it: the archive schema is no table the test flush knows."""
    yield
    with owner_cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent IN (%s::regclass, %s::regclass)",
            ["ledger_archive.ledger_entry", "ledger_archive.ledger_entryseal"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE ledger_archive.{name}")


def test_the_roll_opens_next_month_ahead_and_moves_the_ids_when_a_month_begins(tenant):
    month = _roll_to_new_month()
    following = EntryPartition.objects.get(month=month_following(month.month))
    assert (following.id_from, following.id_to, following.archived) == (month.id_to, month.id_to + SPAN, False)
    entry_partitions_roll(moment=_begins(month.month))  # again within the hour: nothing changes
    assert entry_partitions()[-1] == following

    spend = spend_settled(tenant.employee, "12.00")
    ids = sorted(Entry.objects.filter(transaction=spend).values_list("id", flat=True))
    assert ids[0] == month.id_from and ids[-1] < month.id_to
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM ledger_entry WHERE transaction_id = %s", [spend.id])
        assert {name for (name,) in cursor.fetchall()} == {f"ledger_entry_y{month.month:%Y}m{month.month:%m}"}


def test_a_partition_is_reached_only_through_its_table(tenant):
    """A direct insert would skip the month-close statement trigger, which fires on the partitioned table."""
    month = entry_partitions()[0]
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ledger_entry_y{month.month:%Y}m{month.month:%m}")


def test_a_trigger_disabled_on_one_partition_alone_is_named(tenant):
    partition = f"ledger_entry_y{entry_partitions()[-1].month:%Y}m{entry_partitions()[-1].month:%m}"
    with owner_cursor() as cursor:
        cursor.execute(f"ALTER TABLE {partition} DISABLE TRIGGER ledger_entry_immutable")
        try:
            problems = guarded_trigger_problems()
        finally:
            cursor.execute(f"ALTER TABLE {partition} ENABLE TRIGGER ledger_entry_immutable")
    assert problems == [
        f"Trigger ledger_entry_immutable of ledger_entry is disabled on its partition {partition}; "
        "it must be enabled in ordinary mode there too (ENABLE)."
    ]
    assert guarded_trigger_problems() == []


def test_a_closed_month_is_archived_and_the_ledger_still_verifies(tenant, archive_dropped):
    archived = _roll_to_new_month()
    with time_machine.travel(IN_OCTOBER, tick=True):
        kept = spend_settled(tenant.employee, "40.00")
        reversed_later = spend_settled(tenant.employee, "15.00")
    chain.ledger_seal_all()
    with pytest.raises(ArchiveRefused, match="still being written"):
        entry_month_archive(month=archived.month)
    _roll_to_new_month()
    with pytest.raises(ArchiveRefused, match=r"month 2025-10 of organization .* is not closed"):
        entry_month_archive(month=archived.month)
    assert not EntryPartition.objects.get(month=archived.month).archived

    month_close(actor=tenant.finance, month=OCTOBER, now=IN_NOVEMBER)
    entry_month_archive(month=archived.month)

    assert EntryPartition.objects.get(month=archived.month).archived
    assert not Entry.objects.filter(transaction__in=[kept, reversed_later]).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_entry_history WHERE organization_id = %s", [tenant.organization.id])
        assert cursor.fetchone() == (4,)
    # The chain goes on after the archived links: the next seal follows the last archived one.
    with time_machine.travel(IN_NOVEMBER, tick=True):
        spend_reverse(tenant.finance, reversed_later)
    chain.ledger_seal_all()
    assert sorted(EntrySeal.objects.values_list("sequence", flat=True)) == [5, 6]
    for incremental in (False, True):
        report = ledger_verify(organization=tenant.organization, incremental=incremental)
        assert report["ok"], report["problems"]
    assert ledger_verify()["ok"]

    with pytest.raises(ArchiveRefused, match="no live partition"):
        entry_month_archive(month=archived.month)

    # An archived entry edited after that passing run: the incremental run reads which rows of the archive
    # were written since, as it does the live months'.
    partition = f"ledger_archive.ledger_entry_y{archived.month:%Y}m{archived.month:%m}"
    with owner_cursor() as cursor, triggers_off(cursor, partition):
        cursor.execute(f"UPDATE {partition} SET amount_minor = amount_minor * 2 WHERE transaction_id = %s", [kept.id])
    report = ledger_verify(incremental=True)
    assert any(f"Spend {kept.id} (posted) of 4000 USD should be journaled as" in p for p in report["problems"])


def _fetch(statements: list[str]) -> list[tuple]:
    found = []
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            found.append(cursor.fetchone())
    return found


def test_the_migrations_move_a_populated_ledger_into_monthly_partitions(tenant):
    """The ledger migrated back before migration 0028 and forward again over entries of two past months, as
    the owner, all rolled back after."""
    for moment in (IN_OCTOBER, IN_NOVEMBER):
        with time_machine.travel(moment, tick=True):
            spend_settled(tenant.employee, "25.00")
    chain.ledger_seal_all()
    rows = [
        "SELECT md5(string_agg(row_to_json(r)::text, ',' ORDER BY r.id)) FROM ledger_entry r",
        "SELECT md5(string_agg(row_to_json(r)::text, ',' ORDER BY r.id)) FROM ledger_entryseal r",
    ]
    with db_roles.connected_as_owner(connection), transaction.atomic():
        before = _fetch(rows)
        executor = MigrationExecutor(connection)
        executor.migrate([("ledger", "0027_distribution_keys_gl_accounts")])
        [(partitioned,)] = _fetch(["SELECT relkind = 'p' FROM pg_class WHERE oid = 'ledger_entry'::regclass"])
        assert not partitioned
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        assert _fetch(rows) == before
        [(first_of_november,)] = _fetch(["SELECT min(id) FROM ledger_entry WHERE created_at >= '2025-11-01Z'"])
        october, november, *_ = entry_partitions()
        assert (october.month, october.id_from, november.month, november.id_from) == (
            OCTOBER,
            1,
            date(2025, 11, 1),
            first_of_november,
        )
        assert guarded_trigger_problems() == []
        report = ledger_verify(organization=tenant.organization)
        assert report["ok"], report["problems"]
        transaction.set_rollback(True)
