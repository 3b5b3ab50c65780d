"""verify_ledger against balance checkpoints changed below the application, and the database refusing
to change them at all. Tampering is done as the owner and committed (transaction=True)."""

from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.ledger.balance_checkpoints import balance_checkpoints_write
from apps.ledger.models import Account, BalanceCheckpoint
from apps.ledger.verification import ledger_verify
from tests.ledger.balance_rows import journal_insert
from tests.owner import owner_cursor, triggers_off

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checkpointed(tenant) -> list[BalanceCheckpoint]:
    """Three checkpoints of the expense account, the last one having found an entry that came late."""
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    expense = tenant.department.expense_account
    start = timezone.now() - timedelta(hours=4)
    for hour, amount in ((0, 100), (1, 250)):
        journal_insert(tenant, [(expense, amount), (card, -amount)], start + timedelta(hours=hour))
        balance_checkpoints_write(cut_at=start + timedelta(hours=hour, minutes=30))
    journal_insert(tenant, [(expense, 40), (card, -40)], start + timedelta(minutes=10))
    balance_checkpoints_write(cut_at=start + timedelta(hours=2))
    return list(BalanceCheckpoint.objects.filter(account=expense).order_by("cut_at"))


def _problems(tenant) -> list[str]:
    report = ledger_verify(organization=tenant.organization)
    assert not report["ok"]
    return [problem for problem in report["problems"] if problem.startswith("Balance checkpoint")]


def test_checkpoints_that_sum_their_entries_pass(tenant, checkpointed):
    assert [c.debits_minor for c in checkpointed] == [100, 350, 390]
    assert checkpointed[2].late_since is not None
    report = ledger_verify(organization=tenant.organization)
    assert not [problem for problem in report["problems"] if "checkpoint" in problem.lower()], report["problems"]
    assert report["checked"]["balance_checkpoints"] == 6


def test_a_checkpoint_whose_total_was_changed(tenant, checkpointed):
    middle = checkpointed[1]
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_balancecheckpoint"):
        cursor.execute("UPDATE ledger_balancecheckpoint SET debits_minor = 999 WHERE id = %s", [middle.id])
    assert _problems(tenant) == [
        f"Balance checkpoint {middle.id} of 'Engineering expenses' at {middle.cut_at.isoformat()} says 999 debited "
        "and 0 credited; its entries sum to 350 and 0."
    ]


def test_a_checkpoint_removed_from_the_middle(tenant, checkpointed):
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_balancecheckpoint"):
        cursor.execute("DELETE FROM ledger_balancecheckpoint WHERE id = %s", [checkpointed[1].id])
    last = checkpointed[2]
    assert (
        f"Balance checkpoint {last.id} of 'Engineering expenses' at {last.cut_at.isoformat()} does not follow "
        "the account's checkpoint before it."
    ) in _problems(tenant)


def test_a_late_entry_hidden_from_the_readers(tenant, checkpointed):
    last = checkpointed[2]
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_balancecheckpoint"):
        cursor.execute("UPDATE ledger_balancecheckpoint SET late_since = NULL WHERE id = %s", [last.id])
    assert _problems(tenant) == [
        f"Balance checkpoint {last.id} of 'Engineering expenses' at {last.cut_at.isoformat()} misstates the late "
        "entries it found."
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_balancecheckpoint SET debits_minor = debits_minor + 1",
        "DELETE FROM ledger_balancecheckpoint",
        "TRUNCATE ledger_balancecheckpoint",
    ],
)
def test_checkpoints_are_append_only(checkpointed, statement):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    with pytest.raises(psycopg.Error, match="append-only"), owner_cursor() as cursor:
        cursor.execute(statement)
    assert BalanceCheckpoint.objects.count() == 6
