"""verify_ledger against tampering below the application, one kind per test.

Each tamper is done as the database owner (tests.owner), committed, and is one the previous
verification let through: it is made consistent with every check that existed before, so only
the check for its kind can name it. Hence transaction=True; what a test changes in the schema
(triggers, functions) it restores in `finally`.
"""

import re
import zoneinfo
from importlib import import_module
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.budgets.models import BudgetPeriod
from apps.budgets.totals import budget_periods_open
from apps.fraud.models import FraudAlert, TransactionRisk
from apps.ledger import chain
from apps.ledger.models import ChainCheckpoint, Entry, EntrySeal, Transaction
from apps.ledger.verification import ledger_verify
from tests.factories import DepartmentFactory
from tests.owner import owner_cursor, triggers_off
from tests.spends import spend_reverse, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)

# The amount as spent is edited with the base amount: in the base currency a check constraint holds them equal.
_AMOUNT_EDIT = "UPDATE ledger_transaction SET amount_minor = %(a)s, original_amount_minor = %(a)s WHERE id = %(id)s"


def _problems_named_by_the_command(tenant) -> list[str]:
    """Run verify_ledger as an operator would; it must fail. Returns the problems it printed."""
    out = StringIO()
    with pytest.raises(CommandError, match="problems found"):
        call_command("verify_ledger", "--organization", tenant.organization.slug, stdout=out)
    return [line.removeprefix("PROBLEM: ") for line in out.getvalue().splitlines() if line.startswith("PROBLEM: ")]


def _sealed_spends(tenant, *amounts: str) -> list[Transaction]:
    spends = [spend_settled(tenant.employee, amount) for amount in amounts]
    chain.ledger_seal_all()
    return spends


def _period_of(spend: Transaction) -> BudgetPeriod:
    return BudgetPeriod.objects.get(department_id=spend.department_id, month=spend.budget_month)


def test_a_clean_ledger_passes_in_full_and_incrementally(tenant):
    spends = _sealed_spends(tenant, "10.00", "20.00")
    spend_reverse(tenant.finance, spends[0])
    chain.ledger_seal_all()

    report = ledger_verify(organization=tenant.organization)
    assert report["ok"], report["problems"]
    assert report["checked"]["checkpoints"] == 2
    assert report["checked"]["chain_links_recomputed"] == 6
    assert report["checked"]["triggers"] >= 10
    incremental = ledger_verify(organization=tenant.organization, incremental=True)
    assert incremental["ok"], incremental["problems"]
    assert incremental["checked"]["chain_links_recomputed"] == 1  # the latest checkpoint's own link

    progress = StringIO()
    call_command("verify_ledger", "--incremental", "--progress", stdout=StringIO(), stderr=progress)
    assert f"organization '{tenant.organization.slug}': chain links 6-6 of 6 recomputed" in progress.getvalue()


def test_a_transaction_amount_edited(tenant):
    spend, _ = _sealed_spends(tenant, "10.00", "20.00")
    with owner_cursor() as cursor:
        cursor.execute(_AMOUNT_EDIT, {"a": 100000, "id": spend.id})

    assert (
        f"Spend {spend.id} (posted) of 100000 USD should be journaled as -100000 on card funding and 100000 on "
        "its department's expenses, in USD; its entries are -1000 USD on card funding, 1000 USD on the "
        "expenses of 'Engineering'."
    ) in _problems_named_by_the_command(tenant)


def test_an_entry_edited_with_its_trigger_disabled_before_the_sealer_reached_it(tenant):
    """Moved to another department's account, both budgets adjusted: balanced, and not sealed yet."""
    spend = spend_settled(tenant.employee, "10.00")
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    budget_periods_open(department_ids=[sales.id], month=spend.budget_month)
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute(
            "UPDATE ledger_entry SET account_id = %s WHERE transaction_id = %s AND amount_minor > 0",
            [sales.expense_account.id, spend.id],
        )
        cursor.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = spent_minor + CASE department_id WHEN %s THEN 1000"
            " ELSE -1000 END WHERE department_id IN (%s, %s) AND month = %s",
            [sales.id, sales.id, tenant.department.id, spend.budget_month],
        )

    assert (
        f"Spend {spend.id} (posted) of 1000 USD should be journaled as -1000 on card funding and 1000 on its "
        "department's expenses, in USD; its entries are -1000 USD on card funding, 1000 USD on the expenses of "
        "'Sales'."
    ) in _problems_named_by_the_command(tenant)


def test_a_trigger_in_replica_mode(tenant):
    _sealed_spends(tenant, "10.00")
    with owner_cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_entry ENABLE REPLICA TRIGGER ledger_entry_immutable")
        try:
            problems = _problems_named_by_the_command(tenant)
        finally:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_immutable")
    assert problems == [
        "Trigger ledger_entry_immutable on ledger_entry is enabled for replica only; "
        "it must be enabled in ordinary mode (ENABLE)."
    ]


def test_a_trigger_function_replaced_by_one_that_does_nothing(tenant):
    _sealed_spends(tenant, "10.00")
    installed = import_module("apps.ledger.migrations.0003_ledger_triggers").INSTALL
    original = re.search(r"CREATE FUNCTION ledger_entry_refuse_change\(\).*?\$\$;", installed, re.DOTALL)[0]
    with owner_cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION ledger_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN OLD; END $$"
        )
        try:
            problems = _problems_named_by_the_command(tenant)
        finally:
            cursor.execute(original.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    # Both triggers that run it are named; restored from the migration, the digest matches again.
    assert [p.split(": it was")[0] for p in problems] == [
        f"Function ledger_entry_refuse_change() behind trigger {trigger} is not the one "
        "apps.ledger.migrations.0003_ledger_triggers installed"
        for trigger in ("ledger_entry_immutable", "ledger_entry_no_truncate")
    ]
    assert ledger_verify(organization=tenant.organization)["ok"]


def test_a_chain_rehashed_consistently_in_sql(tenant):
    """A spend's amount raised everywhere (transaction, both legs, budget) and every hash after it recomputed."""
    _, target, _ = _sealed_spends(tenant, "10.00", "20.00", "30.00")
    target_seal = EntrySeal.objects.filter(entry__transaction=target).order_by("sequence").first()
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry", "ledger_entryseal"):
        cursor.execute(_AMOUNT_EDIT, {"a": 200000, "id": target.id})
        cursor.execute(
            "UPDATE ledger_entry SET amount_minor = sign(amount_minor) * 200000 WHERE transaction_id = %s",
            [target.id],
        )
        cursor.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = spent_minor + 198000 WHERE department_id = %s",
            [tenant.department.id],
        )
        prev_hash = target_seal.prev_hash
        for seal in EntrySeal.objects.of(tenant.organization).filter(sequence__gte=target_seal.sequence):
            entry = Entry.objects.get(id=seal.entry_id)  # as edited: the ORM reads the committed row
            link = chain.link_hash(entry, prev_hash=prev_hash, sequence=seal.sequence)
            cursor.execute(
                "UPDATE ledger_entryseal SET prev_hash = %s, hash = %s WHERE id = %s", [prev_hash, link, seal.id]
            )
            prev_hash = link

    checkpoint = ChainCheckpoint.objects.of(tenant.organization).get()
    assert [p for p in _problems_named_by_the_command(tenant) if "Checkpoint" in p] == [
        f"Checkpoint at link 6 of organization '{tenant.organization.slug}' "
        f"(signed {checkpoint.created_at:%Y-%m-%d %H:%M:%S}) signed a different chain: "
        "link 6 was re-hashed after it was checkpointed."
    ]


def test_the_last_entries_deleted_with_their_seals(tenant):
    """The last spend erased: its seals, entries, row, budget share and tally, so the rest agrees."""
    _, erased = _sealed_spends(tenant, "10.00", "20.00")
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry", "ledger_entryseal"):
        cursor.execute(
            "DELETE FROM ledger_entryseal WHERE entry_id IN (SELECT id FROM ledger_entry WHERE transaction_id = %s)",
            [erased.id],
        )
        cursor.execute("DELETE FROM ledger_entry WHERE transaction_id = %s", [erased.id])
        for model in (FraudAlert, TransactionRisk):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE transaction_id = %s", [erased.id])
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [erased.id])
        cursor.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = spent_minor - 2000 WHERE department_id = %s AND month = %s",
            [tenant.department.id, erased.budget_month],
        )
        cursor.execute(
            "UPDATE controls_spendtally SET amount_minor = amount_minor - 2000 WHERE employee_id = %s",
            [erased.employee_id],
        )

    checkpoint = ChainCheckpoint.objects.of(tenant.organization).get()
    where = (
        f"Checkpoint at link 4 of organization '{tenant.organization.slug}' "
        f"(signed {checkpoint.created_at:%Y-%m-%d %H:%M:%S})"
    )
    assert _problems_named_by_the_command(tenant) == [
        f"{where} covers a link that no longer exists: sealed entries were deleted.",
        f"{where} counted 4 links, the chain has 2 up to it: links were deleted.",
    ]


def test_a_period_spent_edited_past_its_limit(tenant):
    """A spend's amount raised with its legs, its period and its tally, so only the limit gives it away."""
    spend = spend_settled(tenant.employee, "10.00")
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry", "budgets_budgetperiod"):
        cursor.execute(_AMOUNT_EDIT, {"a": 6000000, "id": spend.id})
        cursor.execute(
            "UPDATE ledger_entry SET amount_minor = sign(amount_minor) * 6000000 WHERE transaction_id = %s",
            [spend.id],
        )
        cursor.execute("UPDATE budgets_budgetperiod SET spent_minor = 6000000 WHERE id = %s", [_period_of(spend).id])
        cursor.execute(
            "UPDATE controls_spendtally SET amount_minor = 6000000 WHERE employee_id = %s", [spend.employee_id]
        )

    assert _problems_named_by_the_command(tenant) == [
        f"Budget of 'Engineering' for {spend.budget_month:%Y-%m} has 6000000 spent, over its limit of 5000000: "
        "spend was posted past the limit."
    ]


def test_a_checkpoint_rewritten(tenant):
    _sealed_spends(tenant, "10.00", "20.00")
    checkpoint = ChainCheckpoint.objects.of(tenant.organization).get()
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_chaincheckpoint"):
        cursor.execute("UPDATE ledger_chaincheckpoint SET entry_count = 3 WHERE id = %s", [checkpoint.id])

    assert _problems_named_by_the_command(tenant) == [
        f"Checkpoint at link 4 of organization '{tenant.organization.slug}' "
        f"(signed {checkpoint.created_at:%Y-%m-%d %H:%M:%S}) does not match its signature: it was rewritten or forged."
    ]


def test_a_checkpoint_deleted(tenant):
    _sealed_spends(tenant, "10.00")
    _sealed_spends(tenant, "20.00")
    first, second = ChainCheckpoint.objects.of(tenant.organization).order_by("sequence")
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_chaincheckpoint"):
        cursor.execute("DELETE FROM ledger_chaincheckpoint WHERE id = %s", [first.id])

    assert _problems_named_by_the_command(tenant) == [
        f"Checkpoint at link 4 of organization '{tenant.organization.slug}' "
        f"(signed {second.created_at:%Y-%m-%d %H:%M:%S}) does not follow the checkpoint before it: "
        "a checkpoint was removed or added."
    ]


def test_a_spend_tally_edited(tenant):
    """The tallies the spend policy's limits read are kept by settlement; one edited is named."""
    spend, _ = _sealed_spends(tenant, "10.00", "20.00")
    with owner_cursor() as cursor:
        cursor.execute(
            "UPDATE controls_spendtally SET amount_minor = amount_minor + 500 WHERE employee_id = %s",
            [spend.employee_id],
        )

    day = timezone.localtime(spend.created_at, zoneinfo.ZoneInfo(tenant.organization.timezone)).date()
    assert (
        f"Spend tally of {tenant.employee.email} in 'Engineering', category 'equipment', on {day}: "
        "3500 kept, the spends posted or held total 3000."
    ) in _problems_named_by_the_command(tenant)
