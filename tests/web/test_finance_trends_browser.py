"""The finance page's trends in Debian's Chromium, at a desktop's and a phone's width, on known spend
(tests/reports/dashboard_world.py): the comparison, the charts drawn, a department's burn-down picked, axe clean."""

import pytest
import time_machine
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.reports.dashboard_world import NOW, generate_world
from tests.web.test_browser import (  # noqa: F401 - fixtures and markers shared with the other browser tests
    DESKTOP,
    PHONE,
    _orm_beside_playwright,
    browser,
    check_accessible,
    check_fits_the_screen,
    prove_second_factor,
    pytestmark,
    screenshot,
    second_factor_ahead,
)


def _chart_data(page, canvas_id: str) -> list:
    return page.evaluate(
        f"""() => Chart.getChart(document.getElementById("{canvas_id}")).data.datasets.map(d => d.data)"""
    )


@pytest.mark.django_db(transaction=True)  # the live server sees only committed rows
@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "finance-trends"), (PHONE, "finance-trends-phone")])
def test_finance_reads_the_trends_and_picks_a_departments_burn_down(
    browser,  # noqa: F811
    live_server,
    viewport,
    name,
):
    world = generate_world()
    with time_machine.travel(NOW, tick=True):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        code = second_factor_ahead(world.finance)
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email").fill(world.finance.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        prove_second_factor(page, code)
        page.goto(f"{live_server.url}/finance/")
        page.wait_for_load_state("networkidle")

        comparison = page.locator("#month-comparison")
        expect(comparison).to_contain_text("(America/Los_Angeles time)")
        expect(comparison.get_by_role("row", name="Engineering")).to_contain_text("+$500 (+125.0%)")
        expect(page.locator("#burn-table").get_by_role("row", name="Engineering")).to_contain_text(
            "Runs out Nov 23 at this pace"
        )
        assert _chart_data(page, "chart-months")[0][-2:] == [600, 1150]
        # Company first (the tree's root): its spend so far, its forecast to month end, its limit.
        spent, projected, limit = _chart_data(page, "chart-burn-down")
        assert (spent[9], spent[10], projected[29], limit[0]) == (1150, None, 3450, 3000)
        page.get_by_label("Department charted").select_option(label="Sales")
        spent, projected, limit = _chart_data(page, "chart-burn-down")
        assert (spent[4], projected[29], limit[0]) == (250, 750, 250)
        check_accessible(page)
        if viewport == PHONE:
            check_fits_the_screen(page)
        page.locator("#month-comparison").scroll_into_view_if_needed()
        screenshot(page, name)
        context.close()
