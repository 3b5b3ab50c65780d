"""Real concurrency against PostgreSQL: threads, each with its own connection, released together.

transaction=True: every contender commits for real, as workers do.
"""

import pytest

from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services
from tests.conftest import run_in_threads
from tests.factories import DepartmentFactory, UserFactory
from tests.spends import period_now, settle_all, spend_submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_forty_concurrent_spends_against_ten_thousand_post_exactly_ten(tenant):
    BudgetPeriod.objects.all().delete()
    tenant.department.monthly_limit_minor = 1_000_000
    tenant.department.save()
    for _ in range(40):
        spend_submit(tenant.employee, "1000.00")

    def settle_one(index):
        return services.settlement_run(organization_id=tenant.organization.id, batch_size=1)

    run_in_threads(40, settle_one)
    settle_all(tenant.organization)
    statuses = list(Transaction.objects.values_list("status", flat=True))
    assert statuses.count(Transaction.Status.POSTED) == 10
    assert statuses.count(Transaction.Status.REJECTED) == 30
    period = period_now(tenant.department)
    assert period.spent_minor == period.limit_minor == 1_000_000
    assert Entry.objects.count() == 20
    assert ledger_verify()["ok"]


def test_concurrent_submissions_with_one_key_make_one_transaction(tenant):
    def send(index):
        return services.transaction_submit(
            user=tenant.employee,
            idempotency_key="same-key",
            amount="5.00",
            currency="USD",
            merchant="Dell",
            category="equipment",
        )

    results = run_in_threads(20, send)
    assert len({transaction.id for transaction, _ in results}) == 1
    assert [replayed for _, replayed in results].count(False) == 1  # the others waited for it, then replayed it
    assert Transaction.objects.count() == 1


def test_concurrent_reversals_with_one_key_make_one_reversal_and_replay_it(tenant):
    spend = spend_submit(tenant.employee, "50.00")
    settle_all(tenant.organization)

    def reverse(index):
        return services.transaction_reverse(
            actor=tenant.finance, original_id=spend.id, reason="returned", idempotency_key="reverse-once"
        )

    results = run_in_threads(10, reverse)
    assert len({reversal.id for reversal, _ in results}) == 1
    assert [replayed for _, replayed in results].count(False) == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1
    assert ledger_verify()["ok"]


def test_sibling_departments_never_exceed_their_shared_parent(tenant):
    BudgetPeriod.objects.all().delete()  # reopened from the standing limits below
    parent = tenant.department
    parent.monthly_limit_minor = 500_000
    parent.save()
    left = DepartmentFactory(organization=tenant.organization, parent=parent, monthly_limit_minor=400_000)
    right = DepartmentFactory(organization=tenant.organization, parent=parent, monthly_limit_minor=400_000)
    spenders = [UserFactory(department=left), UserFactory(department=right)]
    for i in range(30):
        spend_submit(spenders[i % 2], "500.00")

    def settle_one(index):
        return services.settlement_run(organization_id=tenant.organization.id, batch_size=1)

    run_in_threads(30, settle_one)
    settle_all(tenant.organization)
    spent = {department.id: period_now(department).spent_minor for department in (parent, left, right)}
    assert spent[parent.id] == 500_000
    assert spent[left.id] + spent[right.id] == 500_000
    assert spent[left.id] <= 400_000 and spent[right.id] <= 400_000
    assert Transaction.objects.filter(status=Transaction.Status.POSTED).count() == 10
    assert ledger_verify()["ok"]


def test_spends_reversals_and_limit_changes_across_a_hierarchy_never_deadlock(tenant):
    """Writers arrive at the tree from opposite ends: leaf spends, root limit changes, reversals."""
    from apps.budgets.services import budget_period_set_limit
    from ledgerx.months import month_start

    root = tenant.department
    middle = DepartmentFactory(organization=tenant.organization, parent=root, monthly_limit_minor=3_000_000)
    leaf = DepartmentFactory(organization=tenant.organization, parent=middle, monthly_limit_minor=2_000_000)
    leaf_user, middle_user = UserFactory(department=leaf), UserFactory(department=middle)
    posted = [spend_submit(leaf_user, "10.00") for _ in range(6)]
    settle_all(tenant.organization)
    month = month_start(posted[0].created_at, tenant.organization.timezone)
    for i in range(12):
        spend_submit(leaf_user if i % 2 else middle_user, "7.00")

    def act(index):
        if index < 12:
            return services.settlement_run(organization_id=tenant.organization.id, batch_size=1)
        if index < 18:
            return services.transaction_reverse(
                actor=tenant.finance, original_id=posted[index - 12].id, reason="race", idempotency_key=f"r{index}"
            )
        department = (root, middle, leaf)[index % 3]
        return budget_period_set_limit(actor=None, department=department, month=month, limit_minor=5_000_000)

    run_in_threads(24, act)
    settle_all(tenant.organization)
    assert not Transaction.objects.filter(status=Transaction.Status.PENDING).exists()
    assert Transaction.objects.filter(status=Transaction.Status.REVERSED).count() == 6
    assert ledger_verify()["ok"]
