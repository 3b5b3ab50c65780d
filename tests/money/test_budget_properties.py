"""The budget decision under any interleaving of spends, settlements and reversals.

Hypothesis draws the steps and the real services run them against PostgreSQL: transaction_submit,
settlement_run (with any batch size) and transaction_reverse, on a two-level department tree.
After every step: ledger_verify is clean (spent == ledger at every level, journals balance,
the hash chain holds once sealed), every period has spent <= limit, and every decision is the
one a plain model of the rule makes (oldest first; post only if it fits at every level).

transaction=True: settlement takes its advisory lock outside any transaction and commits for real.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.budgets.models import BudgetPeriod
from apps.ledger import chain
from apps.ledger.models import Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Role
from ledgerx.money import to_decimal_string
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from tests.spends import spend_reverse, spend_submit

# Round amounts as well as odd ones, so that spends landing exactly on a limit are common.
limits = st.integers(0, 30).map(lambda n: n * 1_000) | st.integers(0, 30_000)
amounts = st.integers(1, 12).map(lambda n: n * 1_000) | st.integers(1, 12_000)


submit = st.tuples(st.just("submit"), st.sampled_from(["root", "team"]), amounts)
settle = st.tuples(st.just("settle"), st.integers(1, 4), st.booleans())
reverse = st.tuples(st.just("reverse"), st.integers(0, 50))
# Spends outnumber the other steps, so that budgets fill up and decisions get close to the limits.
operations = st.lists(st.one_of(submit, submit, submit, settle, reverse), min_size=1, max_size=25)


class BudgetModel:
    """The rule in a few lines: spends settle oldest first, and post only if they fit at every level."""

    def __init__(self, *, root, team, root_limit: int, team_limit: int) -> None:
        self.limits = {root.id: root_limit, team.id: team_limit}
        self.lineage = {root.id: [root.id], team.id: [team.id, root.id]}
        self.spent = {root.id: 0, team.id: 0}
        self.pending: list[Transaction] = []
        self.status: dict = {}

    def submitted(self, spend: Transaction) -> None:
        self.pending.append(spend)
        self.status[spend.id] = Transaction.Status.PENDING

    def settled(self, batch_size: int) -> None:
        claimed, self.pending = self.pending[:batch_size], self.pending[batch_size:]
        for spend in claimed:
            levels = self.lineage[spend.department_id]
            fits = all(self.spent[d] + spend.amount_minor <= self.limits[d] for d in levels)
            if fits:
                for department_id in levels:
                    self.spent[department_id] += spend.amount_minor
            self.status[spend.id] = Transaction.Status.POSTED if fits else Transaction.Status.REJECTED

    def posted(self) -> list:
        return sorted((i for i, status in self.status.items() if status == Transaction.Status.POSTED), key=str)

    def reversed(self, spend: Transaction) -> None:
        for department_id in self.lineage[spend.department_id]:
            self.spent[department_id] -= spend.amount_minor
        self.status[spend.id] = Transaction.Status.REVERSED


def _check(organization, model: BudgetModel) -> None:
    actual = dict(Transaction.objects.of(organization).filter(kind="spend").values_list("id", "status"))
    assert actual == model.status
    months = set(Transaction.objects.of(organization).values_list("budget_month", flat=True))
    for period in BudgetPeriod.objects.of(organization):
        if period.month not in months:  # opened ahead of time: nothing moved there
            assert (period.spent_minor, period.held_minor) == (0, 0), period
            continue
        assert period.spent_minor <= period.limit_minor, period
        assert period.spent_minor == model.spent[period.department_id], period
    report = ledger_verify(organization=organization)
    assert report["ok"], report["problems"]


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(root_limit=limits, team_limit=limits, steps=operations)
def test_budget_decisions_hold_under_any_interleaving(root_limit, team_limit, steps):
    organization = OrganizationFactory(name="Property Corp")
    root = DepartmentFactory(organization=organization, name="Company", monthly_limit_minor=root_limit)
    team = DepartmentFactory(organization=organization, name="Team", parent=root, monthly_limit_minor=team_limit)
    spenders = {
        "root": UserFactory(role=Role.EMPLOYEE, department=root),
        "team": UserFactory(role=Role.EMPLOYEE, department=team),
    }
    finance = UserFactory(role=Role.FINANCE_MANAGER, organization=organization)
    model = BudgetModel(root=root, team=team, root_limit=root_limit, team_limit=team_limit)

    for step in [*steps, ("settle", len(steps), True)]:
        if step[0] == "submit":
            _, who, amount = step
            model.submitted(spend_submit(spenders[who], to_decimal_string(amount, "USD")))
        elif step[0] == "settle":
            _, batch_size, seal = step
            spending_services.settlement_run(organization_id=organization.id, batch_size=batch_size)
            model.settled(batch_size)
            if seal:
                chain.entries_seal(organization_id=organization.id)
        elif model.posted():
            spend = Transaction.objects.get(id=model.posted()[step[1] % len(model.posted())])
            spend_reverse(finance, spend)
            model.reversed(spend)
        _check(organization, model)
