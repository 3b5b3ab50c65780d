"""Budget periods: opened from the standing limit, ahead of time by the rollover, in the
organization's timezone."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_rollover, month_start, next_month, parse_period
from ledgerx.errors import InvalidInput
from tests.factories import DepartmentFactory, OrganizationFactory


@pytest.mark.django_db
def test_rollover_opens_this_and_next_month_from_the_standing_limit_once():
    organization = OrganizationFactory(timezone="America/New_York")
    department = DepartmentFactory(organization=organization, monthly_limit_minor=123_400)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # still 30 November in New York
    assert budget_rollover(now=now) == 2
    months = sorted(BudgetPeriod.objects.filter(department=department).values_list("month", "limit_minor"))
    assert months == [(date(2026, 11, 1), 123_400), (date(2026, 12, 1), 123_400)]
    assert budget_rollover(now=now) == 0


@pytest.mark.django_db
def test_the_rollover_command_reports_what_it_opened(capsys):
    DepartmentFactory()
    call_command("rollover_budgets")
    assert "Opened 2 budget periods." in capsys.readouterr().out


def test_month_arithmetic_and_parsing():
    assert month_start(datetime(2027, 1, 1, 4, 59, tzinfo=UTC), "America/New_York") == date(2026, 12, 1)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert parse_period("2026-02") == date(2026, 2, 1)
    for bad in ("2026-13", "26-01", "", "2026-1-1"):
        with pytest.raises(InvalidInput):
            parse_period(bad)
