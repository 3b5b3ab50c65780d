"""Balances at an instant from the checkpoints equal the sum over the entries, whatever the order in
which entries, checkpoints and late commits came (Hypothesis, with real rows)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.ledger.balance_checkpoints import balance_checkpoints_write
from apps.ledger.balances import account_totals_as_of, balance_as_of, balance_summed
from apps.ledger.models import Account, BalanceCheckpoint
from tests.conftest import Tenant
from tests.factories import DepartmentFactory
from tests.ledger.balance_rows import journal_insert

pytestmark = pytest.mark.django_db

MINUTES = 600
# A journal: which expense account it debits (the other leg is card funding), its amount, its minute.
journals = st.tuples(st.integers(0, 2), st.integers(1, 10_000), st.integers(0, MINUTES))
# What happens next: journals are inserted (dated anywhere, so before a checkpoint's cut too: late), or
# a checkpoint is written at a cut some minutes after the last one.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("journals"), st.lists(journals, min_size=1, max_size=5)),
        st.tuples(st.just("checkpoint"), st.integers(1, 120)),
    ),
    max_size=12,
)
# Instants to ask at: a minute (where journals and cuts fall) and a few microseconds either side.
instants = st.lists(st.tuples(st.integers(-5, MINUTES + 130), st.sampled_from([-1, 0, 1])), min_size=1, max_size=8)


def _accounts(tenant) -> list[Account]:
    departments = [tenant.department, *(DepartmentFactory(organization=tenant.organization) for _ in range(2))]
    return [department.expense_account for department in departments]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, instants=instants)
def test_a_balance_at_any_instant_is_the_sum_of_the_entries_up_to_it(steps, instants):
    tenant = Tenant("Balances")
    expenses = _accounts(tenant)
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    cut_minute = 0
    for kind, value in steps:
        if kind == "journals":
            for which, amount, minute in value:
                journal_insert(tenant, [(expenses[which], amount), (card, -amount)], start + timedelta(minutes=minute))
        else:
            cut_minute += value
            balance_checkpoints_write(cut_at=start + timedelta(minutes=cut_minute), organizations=[tenant.organization])

    accounts = [*expenses, card]
    for minute, microseconds in instants:
        as_of = start + timedelta(minutes=minute, microseconds=microseconds)
        totals = account_totals_as_of(account_ids=[account.id for account in accounts], as_of=as_of)
        for account in accounts:
            summed = balance_summed(account_id=account.id, as_of=as_of)
            assert balance_as_of(account_id=account.id, as_of=as_of) == summed
            assert totals[account.id].balance_minor == summed
            debits = sum(e.amount_minor for e in account.entries.filter(created_at__lte=as_of) if e.amount_minor > 0)
            assert totals[account.id].debits_minor == debits


def test_an_entry_dated_before_a_cut_that_came_after_it_is_counted_and_noted(tenant):
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    expense = tenant.department.expense_account
    start = timezone.now() - timedelta(hours=3)
    journal_insert(tenant, [(expense, 100), (card, -100)], start)
    balance_checkpoints_write(cut_at=start + timedelta(hours=1), organizations=[tenant.organization])
    late = journal_insert(tenant, [(expense, 7), (card, -7)], start + timedelta(minutes=30))

    at_cut = start + timedelta(hours=1)
    assert balance_as_of(account_id=expense.id, as_of=at_cut) == 107  # not yet checkpointed
    balance_checkpoints_write(cut_at=start + timedelta(hours=2), organizations=[tenant.organization])
    second = BalanceCheckpoint.objects.get(account=expense, cut_at=start + timedelta(hours=2))
    assert second.late_since == late[0].created_at
    assert (second.debits_minor, second.credits_minor) == (107, 0)
    assert balance_as_of(account_id=expense.id, as_of=at_cut) == 107  # found through the later checkpoint
    assert balance_as_of(account_id=card.id, as_of=at_cut) == -107


def test_an_account_gets_a_checkpoint_only_when_it_has_new_entries(tenant):
    expense = tenant.department.expense_account
    card = Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)
    quiet = DepartmentFactory(organization=tenant.organization).expense_account
    start = timezone.now() - timedelta(hours=3)
    journal_insert(tenant, [(expense, 100), (card, -100)], start)
    assert balance_checkpoints_write(cut_at=start + timedelta(hours=1)) == 2
    assert balance_checkpoints_write(cut_at=start + timedelta(hours=2)) == 0
    assert not BalanceCheckpoint.objects.filter(account=quiet).exists()
    # A cut before the latest one changes nothing; one in the future is refused.
    journal_insert(tenant, [(expense, 5), (card, -5)], start)
    assert balance_checkpoints_write(cut_at=start + timedelta(minutes=30)) == 0
    with pytest.raises(ValueError, match="future"):
        balance_checkpoints_write(cut_at=timezone.now() + timedelta(minutes=1))
