"""The finance dashboard's figures on known spend (tests/reports/dashboard_world.py), and its arithmetic."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.budgets.models import BudgetPeriod
from apps.reports import dashboard
from apps.reports.selectors import dashboard_of_month
from apps.spending import selectors as spending_selectors
from ledgerx.errors import InvalidInput
from tests.reports.dashboard_world import NOW, ZONE, generate_world, seen_at

NOVEMBER = date(2025, 11, 1)
OCTOBER = date(2025, 10, 1)


@pytest.fixture
def world(transactional_db):
    return generate_world()


def _by_name(lines) -> dict:
    return {line.label: line.change for line in lines}


def _burn(board) -> dict:
    return {line.department.name: line for line in board.burn_down}


def test_spend_is_summed_per_department_and_day_of_the_organizations_timezone(world):
    per_day = spending_selectors.spend_per_department_day(organization=world.organization, month=NOVEMBER)
    # 23:30 on 1 November in Los Angeles is 2 November in UTC: it is the 1st's.
    assert per_day == {
        (world.engineering.id, date(2025, 11, 1)): 30_000,
        (world.engineering.id, date(2025, 11, 3)): 60_000,
        (world.sales.id, date(2025, 11, 5)): 25_000,
    }


def test_spend_per_month_is_zero_filled(world):
    months = spending_selectors.spend_per_month(
        organization=world.organization, first_month=date(2025, 9, 1), last_month=date(2025, 12, 1)
    )
    assert months == {date(2025, 9, 1): 0, OCTOBER: 60_000, NOVEMBER: 115_000, date(2025, 12, 1): 0}


def test_a_month_not_over_is_compared_with_as_long_a_stretch_of_the_month_before(world):
    with seen_at():
        board = dashboard_of_month(organization=world.organization, month=NOVEMBER, viewer=world.finance)
    comparison = board.comparison
    assert (board.days_in_month, board.days_elapsed, board.month_over) == (30, 10, False)
    assert comparison.current_start == datetime(2025, 11, 1, tzinfo=ZONE)
    assert comparison.current_end == NOW
    assert comparison.previous_start == datetime(2025, 10, 1, tzinfo=ZONE)
    # Nine and a half days into each: 20 October's travel falls outside.
    assert comparison.previous_end == datetime(2025, 10, 10, 12, tzinfo=ZONE)
    assert comparison.total == dashboard.Change(115_000, 40_000)
    assert comparison.total.change_minor == 75_000
    assert comparison.total.change_percent == Decimal("187.5")
    departments = _by_name(comparison.departments)
    assert list(departments) == ["Company", "Engineering", "Legal", "Sales"]  # the tree, depth-first
    assert departments["Engineering"] == dashboard.Change(90_000, 40_000)
    assert departments["Engineering"].change_percent == Decimal("125.0")
    assert departments["Sales"] == dashboard.Change(25_000, 0)
    assert departments["Sales"].change_percent is None  # nothing to compare with
    assert departments["Legal"] == dashboard.Change(0, 0)  # no spend, still listed
    categories = comparison.categories
    assert [line.label for line in categories] == ["equipment", "software", "travel"]
    assert _by_name(categories)["software"] == dashboard.Change(30_000, 40_000)
    assert _by_name(categories)["software"].change_percent == Decimal("-25.0")


def test_budget_burn_down_forecasts_month_end_from_the_pace_so_far(world):
    with seen_at():
        board = dashboard_of_month(organization=world.organization, month=NOVEMBER, viewer=world.finance)
    burn = _burn(board)
    engineering = burn["Engineering"]
    assert (engineering.limit_minor, engineering.spent_minor) == (200_000, 90_000)
    assert engineering.cumulative_minor == (
        30_000,
        30_000,
        90_000,
        90_000,
        90_000,
        90_000,
        90_000,
        90_000,
        90_000,
        90_000,
    )
    # 900 over 10 days is 90 a day, 2,700 over 30 days: past its 2,000, which runs out on day ceil(2000/90) = 23.
    assert (engineering.pace_minor_per_day, engineering.forecast_minor) == (9_000, 270_000)
    assert engineering.over_forecast
    assert (engineering.exhaustion_date, engineering.exhausted) == (date(2025, 11, 23), False)
    # Company counts its sub-departments: 1,150 at 115 a day is 3,450, past 3,000 on day ceil(3000/115) = 27.
    company = burn["Company"]
    assert (company.spent_minor, company.forecast_minor) == (115_000, 345_000)
    assert (company.exhaustion_date, company.exhausted) == (date(2025, 11, 27), False)
    # Sales spent its whole 250 on the 5th: exhausted then.
    assert (burn["Sales"].exhaustion_date, burn["Sales"].exhausted) == (date(2025, 11, 5), True)
    legal = burn["Legal"]
    assert (legal.spent_minor, legal.forecast_minor, legal.exhaustion_date, legal.over_forecast) == (0, 0, None, False)
    assert legal.cumulative_minor == (0,) * 10
    # What the burn-down counts is what the budgets count.
    for line in board.burn_down:
        period = BudgetPeriod.objects.get(department=line.department, month=NOVEMBER)
        assert line.spent_minor == period.spent_minor
    assert board.months == (
        (date(2025, 6, 1), 0),
        (date(2025, 7, 1), 0),
        (date(2025, 8, 1), 0),
        (date(2025, 9, 1), 0),
        (OCTOBER, 60_000),
        (NOVEMBER, 115_000),
    )


def test_a_month_that_is_over_is_compared_whole_and_forecast_as_it_ended(world):
    with seen_at():
        board = dashboard_of_month(organization=world.organization, month=OCTOBER, viewer=world.finance)
    assert (board.days_in_month, board.days_elapsed, board.month_over) == (31, 31, True)
    assert board.comparison.current_end == datetime(2025, 11, 1, tzinfo=ZONE)
    assert board.comparison.previous_start == datetime(2025, 9, 1, tzinfo=ZONE)
    assert board.comparison.total == dashboard.Change(60_000, 0)
    engineering = _burn(board)["Engineering"]
    assert (engineering.spent_minor, engineering.forecast_minor, engineering.exhaustion_date) == (40_000, 40_000, None)


def test_a_month_not_begun_in_the_organizations_timezone_has_no_dashboard(world):
    # 1 December 05:00 UTC is still 30 November in Los Angeles.
    with seen_at(datetime(2025, 12, 1, 5, tzinfo=UTC)):
        with pytest.raises(InvalidInput) as refused:
            dashboard_of_month(organization=world.organization, month=date(2025, 12, 1), viewer=world.finance)
        assert "month" in refused.value.fields
        board = dashboard_of_month(organization=world.organization, month=NOVEMBER, viewer=world.finance)
    assert (board.days_elapsed, board.month_over) == (30, True)


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2025, 3, 1, 7, 59, tzinfo=UTC), (31, 0)),  # still February in Los Angeles
        (datetime(2025, 3, 1, 8, 0, tzinfo=UTC), (31, 1)),
        (datetime(2025, 3, 31, 12, tzinfo=UTC), (31, 31)),
        (datetime(2025, 5, 1, tzinfo=UTC), (31, 31)),
    ],
)
def test_month_days_are_counted_in_the_timezone(now, days):
    assert dashboard.month_days(date(2025, 3, 1), now, "America/Los_Angeles") == days


@pytest.mark.parametrize(
    ("cumulative", "limit", "expected"),
    [
        ((100, 200), 1_000, (date(2025, 11, 10), False)),  # 100 a day reaches 1,000 on day 10
        ((100, 200), 999, (date(2025, 11, 10), False)),
        ((100, 200), 1_001, (date(2025, 11, 11), False)),
        ((100, 200), 3_001, (None, False)),  # 3,000 by the 30th: it lasts
        ((100, 300), 300, (date(2025, 11, 2), True)),  # reached exactly: nothing more fits
        ((0, 0), 0, (None, False)),  # a frozen budget with nothing spent has not run out
    ],
)
def test_exhaustion_is_the_day_the_limit_is_reached_or_will_be_at_this_pace(cumulative, limit, expected):
    assert (
        dashboard.exhaustion(month=NOVEMBER, limit_minor=limit, cumulative_minor=cumulative, days_in_month=30)
        == expected
    )


def test_the_forecast_rounds_to_the_minor_unit_without_floats():
    assert dashboard.forecast_minor(100, 3, 31) == 1_033  # 1,033.33
    assert dashboard.forecast_minor(200, 3, 31) == 2_067  # 2,066.67
    assert dashboard.forecast_minor(0, 0, 30) == 0
