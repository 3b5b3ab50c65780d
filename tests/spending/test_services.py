"""The money path at the service level: acceptance, settlement, idempotency, reversal, verification.

Settlement takes an advisory lock before its SERIALIZABLE transaction starts, so these tests
commit for real (transaction=True).
"""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import intake, services, settlement
from ledgerx.errors import (
    Conflict,
    Forbidden,
    FxRateMissing,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    RateLimited,
)
from tests.factories import DepartmentFactory, UserFactory
from tests.owner import owner_cursor
from tests.spends import period_now, refreshed, settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_accepted_spend_is_pending_and_touches_no_budget(tenant):
    spend = spend_submit(tenant.employee, "6000.00")
    assert spend.status == Transaction.Status.PENDING
    assert spend.amount_minor == 600_000
    assert not Entry.objects.exists()
    assert not BudgetPeriod.objects.filter(spent_minor__gt=0).exists()


def test_accepted_spend_instance_matches_its_row_and_needs_no_field_preparation(tenant):
    """The spend INSERT sends the attribute values as they are; the ORM would have sent the same."""
    spend = spend_submit(tenant.employee, "12.34", merchant="Taxi")
    stored = Transaction.objects.get(id=spend.id)
    for field in Transaction._meta.concrete_fields:
        value = getattr(spend, field.attname)
        assert value == getattr(stored, field.attname), field.name
        assert field.get_db_prep_save(field.pre_save(spend, add=True), connection) == value, field.name
    assert spend.department == tenant.department and spend.employee == tenant.employee
    assert not spend._state.adding


def test_the_spend_insert_is_prepared_once_per_connection(tenant):
    spend_submit(tenant.employee, "1.00")
    spend_submit(tenant.employee, "2.00")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'INSERT INTO \"ledger_transaction\"%%'"
        )
        assert cursor.fetchall() == [(2,)]  # one statement, run twice


def test_settlement_posts_two_entries_summing_to_zero_and_charges_every_level(tenant):
    team = DepartmentFactory(organization=tenant.organization, parent=tenant.department, monthly_limit_minor=1_000_000)
    member = UserFactory(department=team)
    spend = spend_submit(member, "100.00")
    settle_all(tenant.organization)
    spend = refreshed(spend)
    assert spend.status == Transaction.Status.POSTED
    assert spend.processed_at is not None
    amounts = sorted(Entry.objects.filter(transaction=spend).values_list("amount_minor", flat=True))
    assert amounts == [-10_000, 10_000]
    spent = dict(BudgetPeriod.objects.filter(month=spend.budget_month).values_list("department_id", "spent_minor"))
    assert spent == {team.id: 10_000, tenant.department.id: 10_000}
    assert ledger_verify()["ok"]


def test_rejection_names_the_first_level_that_fails(tenant):
    team = DepartmentFactory(
        organization=tenant.organization, name="Platform", parent=tenant.department, monthly_limit_minor=10_000_000
    )
    member = UserFactory(department=team)
    spend_submit(tenant.employee, "6000.00")
    big = spend_submit(member, "48000.00")
    settle_all(tenant.organization)
    big = refreshed(big)
    assert big.status == Transaction.Status.REJECTED
    assert big.rejection_reason == (
        "Department 'Engineering' budget exceeded. Limit: $50,000, "
        "Current (spent plus held): $6,000, Requested: $48,000"
    )
    assert not Entry.objects.filter(transaction=big).exists()
    assert ledger_verify()["ok"]


def test_spend_exactly_at_the_limit_posts_and_one_cent_more_is_rejected(tenant):
    exact = spend_submit(tenant.employee, "50000.00")
    over = spend_submit(tenant.employee, "0.01")
    settle_all(tenant.organization)
    assert refreshed(exact).status == Transaction.Status.POSTED
    assert refreshed(over).status == Transaction.Status.REJECTED


def test_settling_twice_changes_nothing(tenant):
    spend = spend_submit(tenant.employee, "10.00")
    settle_all(tenant.organization)
    result = services.settlement_run(organization_id=tenant.organization.id)
    assert result.settled == 0
    assert Entry.objects.filter(transaction=spend).count() == 2
    assert period_now(tenant.department).spent_minor == 1_000


@pytest.mark.parametrize(
    "amount",
    ["0", "0.00", "-5", "1e3", "0.001", "NaN", "Infinity", "1,000", " 5", "5.", ".5", "99999999999999999999", ""],
)
def test_bad_amounts_are_refused_and_write_nothing(tenant, amount):
    with pytest.raises(InvalidInput):
        spend_submit(tenant.employee, amount)
    assert not Transaction.objects.exists()


def test_unknown_currency_or_one_without_a_rate_is_refused(tenant):
    for currency, refusal in (("XXX", InvalidInput), ("usd", InvalidInput), ("EUR", FxRateMissing)):
        with pytest.raises(refusal):
            services.transaction_submit(
                user=tenant.employee,
                idempotency_key=f"k-{currency}",
                amount="1.00",
                currency=currency,
                merchant="m",
                category="c",
            )
    assert not Transaction.objects.exists()


def test_another_tenants_department_is_not_found(tenant, other_tenant):
    with pytest.raises(NotFound):
        spend_submit(tenant.finance, "1.00", department_id=other_tenant.department.id)
    with pytest.raises(NotFound):
        spend_submit(tenant.employee, "1.00", department_id=other_tenant.department.id)
    assert not Transaction.objects.exists()


def test_employee_spends_only_from_own_department(tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    with pytest.raises(Forbidden):
        spend_submit(tenant.employee, "1.00", department_id=sales.id)
    spend = spend_submit(tenant.finance, "1.00", department_id=sales.id)
    assert spend.department_id == sales.id


def test_same_key_same_body_replays_the_first_transaction(tenant):
    first = spend_submit(tenant.employee, "12.34", key="retry-me")
    again, replayed = services.transaction_submit(
        user=tenant.employee,
        idempotency_key="retry-me",
        amount="12.34",
        currency="USD",
        merchant="Dell",
        category="equipment",
    )
    assert replayed and again.id == first.id
    assert Transaction.objects.count() == 1


def test_same_key_other_body_is_refused(tenant):
    spend_submit(tenant.employee, "12.34", key="once")
    with pytest.raises(IdempotencyKeyReused):
        spend_submit(tenant.employee, "99.00", key="once")
    assert Transaction.objects.count() == 1


def test_database_constraint_holds_the_key_when_redis_forgot_it(tenant):
    from django_redis import get_redis_connection

    first = spend_submit(tenant.employee, "12.34", key="durable")
    get_redis_connection("default").flushdb()
    again, replayed = services.transaction_submit(
        user=tenant.employee,
        idempotency_key="durable",
        amount="12.34",
        currency="USD",
        merchant="Dell",
        category="equipment",
    )
    assert replayed and again.id == first.id
    get_redis_connection("default").flushdb()
    with pytest.raises(IdempotencyKeyReused):
        spend_submit(tenant.employee, "1.00", key="durable")
    assert Transaction.objects.count() == 1


def test_a_spend_that_failed_leaves_its_key_free_for_the_retry(tenant, monkeypatch):
    def lose_the_insert(*args, **kwargs):
        raise OperationalError("the connection was lost")

    monkeypatch.setattr(intake, "spend_insert", lose_the_insert)
    with pytest.raises(OperationalError):
        spend_submit(tenant.employee, "1.00", key="failed-once")
    monkeypatch.undo()
    retried, replayed = services.transaction_submit(
        user=tenant.employee, idempotency_key="failed-once", amount="1.00", currency="USD", merchant="M", category="x"
    )
    assert not replayed
    assert Transaction.objects.get().id == retried.id


def test_a_spend_past_the_rate_limit_is_refused_without_claiming_its_key(tenant, settings):
    settings.RATE_LIMIT_SPEND_PER_USER = (2, 60)
    spend_submit(tenant.employee, "1.00", key="first")
    spend_submit(tenant.employee, "1.00", key="first")  # a replay is a hit too
    with pytest.raises(RateLimited):
        spend_submit(tenant.employee, "1.00", key="refused")
    assert Transaction.objects.count() == 1
    # Past the limit, a retry of the recorded spend still replays it: a client never pays twice.
    assert spend_submit(tenant.employee, "1.00", key="first").idempotency_key == "first"
    assert Transaction.objects.count() == 1
    settings.RATE_LIMIT_SPEND_PER_USER = (10, 60)
    retried = spend_submit(tenant.employee, "1.00", key="refused")  # the refused request did not take it
    assert Transaction.objects.filter(idempotency_key="refused").get().id == retried.id


def test_keys_belong_to_one_organization(tenant, other_tenant):
    mine = spend_submit(tenant.employee, "1.00", key="shared-key")
    theirs = spend_submit(other_tenant.employee, "1.00", key="shared-key")
    assert mine.id != theirs.id


def test_reversal_adds_compensating_entries_and_releases_the_budget(tenant):
    spend = spend_submit(tenant.employee, "6000.00")
    settle_all(tenant.organization)
    reversal, replayed = services.transaction_reverse(
        actor=tenant.finance, original_id=spend.id, reason="duplicate order", idempotency_key="rev-1"
    )
    assert not replayed
    assert refreshed(spend).status == Transaction.Status.REVERSED
    assert reversal.reversal_of_id == spend.id and reversal.status == Transaction.Status.POSTED
    assert sorted(Entry.objects.filter(transaction=reversal).values_list("amount_minor", flat=True)) == [
        -600_000,
        600_000,
    ]
    assert Entry.objects.filter(transaction=spend).count() == 2  # the original is never changed
    assert period_now(tenant.department).spent_minor == 0
    assert ledger_verify()["ok"]


def test_a_transaction_is_reversed_at_most_once(tenant):
    spend = spend_submit(tenant.employee, "10.00")
    settle_all(tenant.organization)
    services.transaction_reverse(actor=tenant.finance, original_id=spend.id, reason="r", idempotency_key="a")
    with pytest.raises(Conflict):
        services.transaction_reverse(actor=tenant.finance, original_id=spend.id, reason="r", idempotency_key="b")
    _replay, replayed = services.transaction_reverse(
        actor=tenant.finance, original_id=spend.id, reason="r", idempotency_key="a"
    )
    assert replayed
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1


def test_only_posted_spends_can_be_reversed(tenant):
    pending = spend_submit(tenant.employee, "10.00")
    with pytest.raises(Conflict):
        services.transaction_reverse(actor=tenant.finance, original_id=pending.id, reason="r", idempotency_key="p")
    assert refreshed(pending).status == Transaction.Status.PENDING


def test_reversing_another_tenants_transaction_is_not_found(tenant, other_tenant):
    theirs = spend_submit(other_tenant.employee, "10.00")
    with pytest.raises(NotFound):
        services.transaction_reverse(actor=tenant.finance, original_id=theirs.id, reason="r", idempotency_key="x")


def test_verify_reports_a_budget_that_disagrees_with_the_ledger(tenant):
    spend_submit(tenant.employee, "10.00")
    settle_all(tenant.organization)
    BudgetPeriod.objects.filter(department=tenant.department).update(spent_minor=5)
    report = ledger_verify(organization=tenant.organization)
    assert not report["ok"]
    assert any("Engineering" in problem and "ledger says 1000" in problem for problem in report["problems"])


def test_verify_reports_disabled_triggers_and_stuck_spends(tenant):
    spend = spend_submit(tenant.employee, "10.00")
    Transaction.objects.filter(id=spend.id).update(created_at=spend.created_at.replace(year=2020))
    with owner_cursor() as cursor:  # only the owner may switch a trigger off
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_immutable")
        try:
            problems = ledger_verify()["problems"]
        finally:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_immutable")
    assert any("ledger_entry_immutable" in p for p in problems)
    assert any("pending" in p for p in problems)


def test_lowering_a_limit_below_spent_blocks_further_spend_and_says_so(tenant):
    from apps.budgets.services import budget_period_set_limit

    first = spend_submit(tenant.employee, "100.00")
    settle_all(tenant.organization)
    period = period_now(tenant.department)
    _, notice = budget_period_set_limit(actor=None, department=tenant.department, month=period.month, limit_minor=5_000)
    assert "below what is already spent" in notice
    second = spend_submit(tenant.employee, "0.01")
    settle_all(tenant.organization)
    assert refreshed(first).status == Transaction.Status.POSTED
    assert refreshed(second).status == Transaction.Status.REJECTED
    report = ledger_verify()
    assert report["ok"], report["problems"]
    assert (
        f"Budget of 'Engineering' for {period.month:%Y-%m} has 10000 spent over a limit of 5000 lowered below it: "
        "frozen, nothing more posts."
    ) in report["notices"]


def test_each_batch_is_counted_in_the_settlement_histograms(tenant):
    from apps.system.prometheus import render
    from apps.system.selectors import settlement_histograms, system_metrics

    for _ in range(3):
        spend_submit(tenant.employee, "1.00")
    settle_all(tenant.organization)
    histograms = settlement_histograms()
    batch = {b["le"]: b["count"] for b in histograms["batch_size"]["buckets"]}
    assert (batch["1"], batch["10"], batch["+Inf"]) == (0, 1, 1)
    assert histograms["batch_size"]["sum"] == 3
    assert histograms["settle_latency_seconds"]["count"] == 3
    text = render(system_metrics())
    assert 'ledgerx_settlement_batch_size_bucket{le="10"} 1' in text
    assert "ledgerx_settlement_latency_histogram_seconds_count 3" in text


def test_the_settlement_claim_reads_pending_spends_in_index_order(tenant):
    """A plain index scan, with no sort: it marks settled spends' entries dead as it passes them,
    where a bitmap scan would visit every spend settled since the last VACUUM at every claim."""
    spend_submit(tenant.employee, "1.00")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        try:
            cursor.execute("EXPLAIN " + settlement._CLAIM_OLDEST, [tenant.organization.id, 1000])
            plan = "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")
    assert "Index Scan using txn_pending_by_org_age" in plan
    assert "Sort" not in plan


def test_a_batch_takes_the_oldest_pending_spends_and_says_whether_more_wait(tenant, other_tenant):
    spends = [spend_submit(tenant.employee, "1.00") for _ in range(3)]
    elsewhere = spend_submit(other_tenant.employee, "1.00")

    first = services.settlement_run(organization_id=tenant.organization.id, batch_size=2)
    assert (first.posted, first.more_pending) == ([spends[0].id, spends[1].id], True)
    second = services.settlement_run(organization_id=tenant.organization.id, batch_size=2)
    assert (second.posted, second.more_pending) == ([spends[2].id], False)
    assert refreshed(elsewhere).status == Transaction.Status.PENDING


def test_a_spend_locked_elsewhere_is_skipped_not_waited_for(tenant):
    """The claim skips rows another transaction holds; waiting for them would hang here, since the
    holder lets go only after settlement returns."""
    spends = [spend_submit(tenant.employee, "1.00") for _ in range(3)]
    locked, release = threading.Event(), threading.Event()

    def hold_the_oldest() -> None:
        try:
            with transaction.atomic():
                Transaction.objects.select_for_update().get(id=spends[0].id)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_oldest)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        result = services.settlement_run(organization_id=tenant.organization.id)
    finally:
        release.set()
        holder.join()

    assert result.posted == [spends[1].id, spends[2].id]
    assert refreshed(spends[0]).status == Transaction.Status.PENDING
    settle_all(tenant.organization)
    assert refreshed(spends[0]).status == Transaction.Status.POSTED
