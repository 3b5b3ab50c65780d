"""Budget periods: opened from the standing limit, for a new department in the transaction that creates it and
for every department ahead of time by the rollover, in the organization's timezone."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_period_set_limit, budget_rollover
from apps.tenancy.models import Department
from apps.tenancy.services import department_create, department_set_standing_limit
from ledgerx.errors import InvalidInput
from ledgerx.months import month_following, month_parse, month_start
from tests.factories import DepartmentFactory, OrganizationFactory


def _months(department) -> list[tuple[date, int, int, int]]:
    return sorted(
        BudgetPeriod.objects.filter(department=department).values_list(
            "month", "limit_minor", "spent_minor", "held_minor"
        )
    )


@pytest.mark.django_db
def test_a_new_department_has_this_and_next_month_open_in_the_transaction_that_creates_it():
    organization = OrganizationFactory(timezone="America/New_York")
    with time_machine.travel(datetime(2027, 2, 1, 3, 0, tzinfo=UTC), tick=False):  # still 31 January in New York
        with transaction.atomic():
            sales = department_create(
                organization=organization, name="Sales", monthly_limit_minor=2_500_000, actor=None
            )
            assert _months(sales) == [(date(2027, 1, 1), 2_500_000, 0, 0), (date(2027, 2, 1), 2_500_000, 0, 0)]
        with pytest.raises(RuntimeError), transaction.atomic():
            department_create(organization=organization, name="Ops", monthly_limit_minor=1, actor=None)
            raise RuntimeError("the creation rolls back")
    assert not BudgetPeriod.objects.filter(department__name="Ops").exists()
    assert not Department.objects.filter(name="Ops").exists()


@pytest.mark.django_db
def test_rollover_opens_this_and_next_month_from_the_standing_limit_once():
    organization = OrganizationFactory(timezone="America/New_York")
    with time_machine.travel(datetime(2026, 10, 10, 12, 0, tzinfo=UTC), tick=False):
        department = DepartmentFactory(organization=organization, monthly_limit_minor=123_400)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still 30 November in New York
    assert budget_rollover(now=now) == 1  # November; December was opened ahead of time by the last one
    assert budget_rollover(now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC)) == 1  # 1 December: January, ahead
    assert [(month, limit) for month, limit, _, _ in _months(department)] == [
        (date(2026, 10, 1), 123_400),
        (date(2026, 11, 1), 123_400),
        (date(2026, 12, 1), 123_400),
        (date(2027, 1, 1), 123_400),
    ]
    assert budget_rollover(now=now) == 0


@pytest.mark.django_db
def test_the_rollover_command_reports_what_it_opened(capsys):
    with time_machine.travel(datetime(2026, 6, 10, 12, 0, tzinfo=UTC), tick=False):
        DepartmentFactory()
    with time_machine.travel(datetime(2026, 9, 10, 12, 0, tzinfo=UTC), tick=False):
        call_command("rollover_budgets")
    assert "Opened 2 budget periods." in capsys.readouterr().out


def test_month_arithmetic_and_parsing():
    assert month_start(datetime(2027, 1, 1, 4, 59, tzinfo=UTC), "America/New_York") == date(2026, 12, 1)
    assert month_following(date(2026, 12, 1)) == date(2027, 1, 1)
    assert month_parse("2026-02") == date(2026, 2, 1)
    for bad in ("2026-13", "26-01", "", "2026-1-1"):
        with pytest.raises(InvalidInput):
            month_parse(bad)


@pytest.mark.django_db(transaction=True)  # setting a period's limit takes the settlement lock outside a transaction
def test_months_opened_ahead_take_a_new_standing_limit_unless_finance_set_their_own(tenant):
    organization = OrganizationFactory(timezone="UTC")
    with time_machine.travel(datetime(2027, 3, 10, 12, 0, tzinfo=UTC), tick=False):
        sales = DepartmentFactory(organization=organization, name="Sales", monthly_limit_minor=100_000)
        support = DepartmentFactory(organization=organization, name="Support", monthly_limit_minor=100_000)
        budget_period_set_limit(department=support, month=date(2027, 4, 1), limit_minor=100_000, actor=tenant.admin)
        for department in (sales, support):
            department_set_standing_limit(department=department, limit_minor=300_000, actor=None)

    assert [(month, limit) for month, limit, _, _ in _months(sales)] == [
        (date(2027, 3, 1), 100_000),  # this month changes only through budget_period_set_limit
        (date(2027, 4, 1), 300_000),
    ]
    assert [(month, limit) for month, limit, _, _ in _months(support)] == [
        (date(2027, 3, 1), 100_000),
        (date(2027, 4, 1), 100_000),  # set by finance, even to the old figure: kept
    ]
