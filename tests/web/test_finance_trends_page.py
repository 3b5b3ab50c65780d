"""The finance page's trends through Django's test client, on known spend (tests/reports/dashboard_world.py)."""

import json
import re
from datetime import datetime

import pytest

from tests.reports.dashboard_world import ZONE, generate_world, seen_at
from tests.web.test_pages import logged_in, text_of


@pytest.fixture
def world(transactional_db):
    return generate_world()


def _section(page: str, element_id: str) -> str:
    return text_of(re.search(rf'id="{element_id}".*?</table>', page, re.S).group(0))


def test_the_finance_page_compares_the_months_and_forecasts_each_budget(world):
    with seen_at():
        page = logged_in(world.finance).get("/finance/").content.decode()
    text = text_of(page)
    assert "Nov 1 to Nov 10, 12:00 against Oct 1 to Oct 10, 12:00 (America/Los_Angeles time)" in text
    assert "$1,150 against $400: +$750 (+187.5%)" in text
    comparison = _section(page, "month-comparison")
    assert "Engineering $900 $400 +$500 (+125.0%)" in comparison
    assert "Sales $250 $0 +$250 (none last month)" in comparison
    assert "Legal $0 $0 no change" in comparison
    assert "software $300 $400 -$100 (-25.0%)" in _section(page, "comparison-categories-caption")
    assert "November 2025 (so far) $1,150" in _section(page, "months-title")
    assert "day 10 of 30 in America/Los_Angeles time, as of Nov 10, 12:00 PST" in text
    burn = _section(page, "burn-table-title")
    assert "Engineering $900 $90 $2,700 $2,000 Runs out Nov 23 at this pace" in burn
    assert "Sales $250 $25 $750 $250 Ran out Nov 5" in burn
    assert "Legal $0 $0 $0 $500 Lasts the month" in burn
    data = json.loads(re.search(r'id="finance-trends-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert data["months"]["labels"][-1] == "Nov 2025" and data["months"]["values"][-1] == "1150.00"
    assert len(data["days"]) == 30 and data["days"][0] == "Nov 1"
    engineering = next(line for line in data["burn_down"] if line["name"] == "Engineering")
    assert engineering["spent"][9] == "900.00" and engineering["spent"][10] is None
    # The run rate from day 10 (900) to day 30 (2,700).
    assert engineering["projected"][8] is None
    assert (engineering["projected"][9], engineering["projected"][29]) == ("900.00", "2700.00")
    assert "finance_trends.js" in page


def test_on_the_first_morning_of_a_month_its_first_hours_are_compared(world):
    with seen_at(datetime(2025, 12, 1, 9, tzinfo=ZONE)):
        text = text_of(logged_in(world.finance).get("/finance/").content.decode())
    assert "Dec 1 to Dec 1, 09:00 against Nov 1 to Nov 1, 09:00" in text
    assert "$0 against $0: no change" in text
    assert "November 2025 $1,150 December 2025 (so far) $0" in text
    assert "Engineering $0 $0 $0 $2,000 Lasts the month" in text


def test_the_trends_of_a_month_before_are_picked_by_month(world):
    with seen_at():
        page = logged_in(world.finance).get("/finance/", {"month": "2025-10"}).content.decode()
    text = text_of(page)
    assert 'value="2025-10"' in page
    assert "October 2025 against September 2025" in text
    assert "$600 against $0: +$600 (none last month)" in text
    assert "October 2025 $600" in text and "November 2025" not in _section(page, "months-title")
    assert "Engineering $400 $12.90 $400 $2,000 Lasts the month" in text


@pytest.mark.parametrize("month", ["2025-13", "next", "2025-12"])
def test_a_bad_or_future_month_shows_this_months_trends_with_the_reason_and_a_400(world, month):
    with seen_at():
        response = logged_in(world.finance).get("/finance/", {"month": month})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-invalid="true"' in page and 'id="trends-month-error"' in page
    assert "Showing this month." in text_of(page)
    assert "Nov 1 to Nov 10, 12:00 against Oct 1 to Oct 10, 12:00" in text_of(page)
