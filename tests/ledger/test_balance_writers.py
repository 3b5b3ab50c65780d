"""The checkpoint writer against entries in flight, with real concurrent transactions: an entry whose id
was drawn before a checkpoint is covered by it once committed, never skipped."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction
from django.utils import timezone

from apps.ledger.balance_checkpoints import WritersInFlight, balance_checkpoints_write, settled_entry_bound
from apps.ledger.balances import balance_as_of
from apps.ledger.models import Account, BalanceCheckpoint
from apps.ledger.tasks import write_balance_checkpoints
from ledgerx.celery import app as celery_app
from tests.ledger.balance_rows import journal_insert

pytestmark = pytest.mark.django_db(transaction=True)


def _journal_held_open(tenant, created_at, inserted: threading.Event, release: threading.Event) -> threading.Thread:
    """A thread that inserts a journal, signals `inserted`, and commits only once `release` is set."""
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)

    def write() -> None:
        try:
            with transaction.atomic():
                journal_insert(tenant, [(tenant.department.expense_account, 100), (card, -100)], created_at)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    assert inserted.wait(10)
    return thread


def test_a_checkpoint_waits_for_the_entries_in_flight_and_covers_them(tenant):
    start = timezone.now() - timedelta(hours=2)
    inserted, release = threading.Event(), threading.Event()
    writer = _journal_held_open(tenant, start, inserted, release)
    written: list[int] = []

    def checkpoint() -> None:
        try:
            written.append(balance_checkpoints_write(cut_at=start + timedelta(hours=1)))
        finally:
            connections.close_all()

    checkpointer = threading.Thread(target=checkpoint)
    checkpointer.start()
    checkpointer.join(1)
    assert checkpointer.is_alive(), "the checkpoint did not wait for the entry in flight"
    release.set()
    writer.join(10)
    checkpointer.join(10)
    assert written == [2]
    expense = BalanceCheckpoint.objects.get(account=tenant.department.expense_account)
    assert expense.debits_minor == 100
    assert balance_as_of(account_id=expense.account_id, as_of=start) == 100


def test_a_writer_that_stays_in_flight_stops_the_run(tenant):
    inserted, release = threading.Event(), threading.Event()
    writer = _journal_held_open(tenant, timezone.now() - timedelta(hours=2), inserted, release)
    try:
        with pytest.raises(WritersInFlight):
            settled_entry_bound(wait=timedelta(milliseconds=200))
    finally:
        release.set()
        writer.join(10)
    assert not BalanceCheckpoint.objects.exists()


def test_the_command_backfills_history_and_the_beat_task_keeps_up(tenant):
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    expense = tenant.department.expense_account
    start = timezone.now() - timedelta(days=2)
    for hours in (0, 10, 30):
        journal_insert(tenant, [(expense, 100), (card, -100)], start + timedelta(hours=hours))
    out = StringIO()
    call_command(
        "balance_checkpoints", "--backfill-hours", "12", "--organization", tenant.organization.slug, stdout=out
    )
    # Cuts at 12, 24 and 36 hours and a minute ago; each account changes at the first and the third.
    assert out.getvalue() == "4 balance checkpoints written.\n"
    assert list(BalanceCheckpoint.objects.filter(account=expense).values_list("debits_minor", flat=True)) == [200, 300]
    journal_insert(tenant, [(expense, 5), (card, -5)], timezone.now() - timedelta(minutes=2))
    assert celery_app.conf.beat_schedule["write-balance-checkpoints"]["task"] == write_balance_checkpoints.name
    assert write_balance_checkpoints.apply().get() == 2
    with pytest.raises(CommandError, match="No organization"):
        call_command("balance_checkpoints", "--organization", "nobody")
