"""GET /api/v1/reports/dashboard: the finance dashboard of a month, on known spend (dashboard_world.py)."""

import pytest

from apps.tenancy.models import Role
from tests.conftest import Tenant, client_for
from tests.reports.dashboard_world import generate_world, seen_at

DASHBOARD = "/api/v1/reports/dashboard"


@pytest.fixture
def world(transactional_db):
    return generate_world()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


def test_the_dashboard_states_its_month_in_the_organizations_currency_and_timezone(world):
    with seen_at():
        body = client_for(world.finance).get(DASHBOARD, {"month": "2025-11"}).json()
        assert client_for(world.admin).get(DASHBOARD).json() == body  # this month by default
    assert (body["month"], body["timezone"], body["currency"]) == ("2025-11", "America/Los_Angeles", "USD")
    assert body["as_of"] == "2025-11-10T12:00:00-08:00"
    assert (body["days_in_month"], body["days_elapsed"], body["month_over"]) == (30, 10, False)
    comparison = body["comparison"]
    assert comparison["current"] == {"from": "2025-11-01T00:00:00-07:00", "to": "2025-11-10T12:00:00-08:00"}
    assert comparison["previous"] == {"from": "2025-10-01T00:00:00-07:00", "to": "2025-10-10T12:00:00-07:00"}
    assert comparison["total"] == {
        "current": "1150.00",
        "previous": "400.00",
        "change": "750.00",
        "change_percent": "187.5",
    }
    departments = {line["department"]["name"]: line for line in comparison["departments"]}
    assert departments["Engineering"]["department"]["id"] == str(world.engineering.id)
    assert (departments["Sales"]["change"], departments["Sales"]["change_percent"]) == ("250.00", None)
    assert departments["Legal"]["current"] == "0.00"
    software = next(line for line in comparison["categories"] if line["category"] == "software")
    assert (software["change"], software["change_percent"]) == ("-100.00", "-25.0")
    assert body["months"][-2:] == [{"month": "2025-10", "spent": "600.00"}, {"month": "2025-11", "spent": "1150.00"}]
    assert len(body["months"]) == 6
    engineering = next(line for line in body["burn_down"] if line["department"]["name"] == "Engineering")
    assert engineering == {
        "department": {"id": str(world.engineering.id), "name": "Engineering"},
        "depth": 1,
        "limit": "2000.00",
        "spent": "900.00",
        "held": "0.00",
        "pace_per_day": "90.00",
        "forecast": "2700.00",
        "over_forecast": True,
        "exhaustion_date": "2025-11-23",
        "exhausted": False,
        "cumulative": ["300.00", "300.00", *["900.00"] * 8],
    }


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.EMPLOYEE, 403), (Role.FINANCE_MANAGER, 200), (Role.ORG_ADMIN, 200)]
)
def test_only_finance_and_admins_read_the_dashboard(world, role, status):
    user = {None: None, Role.EMPLOYEE: world.employee, Role.FINANCE_MANAGER: world.finance, Role.ORG_ADMIN: world.admin}
    with seen_at():
        assert client_for(user[role]).get(DASHBOARD, {"month": "2025-11"}).status_code == status


def test_another_tenant_sees_only_its_own_spend_and_departments(world):
    other = Tenant("Globex")
    with seen_at():
        body = client_for(other.finance).get(DASHBOARD, {"month": "2025-11"}).json()
    assert body["organization"]["name"] == "Globex"
    assert [line["department"]["name"] for line in body["burn_down"]] == ["Engineering"]
    assert body["burn_down"][0]["department"]["id"] == str(other.department.id)
    assert body["comparison"]["total"]["current"] == "0.00" and body["comparison"]["categories"] == []
    assert {month["spent"] for month in body["months"]} == {"0.00"}


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-11", " 2025-11", "2025-11\n", "1969-12", "", "2025-12"])
def test_a_bad_or_future_month_is_a_400_naming_it(world, month):
    with seen_at():
        error = error_of(client_for(world.finance).get(DASHBOARD, {"month": month}), 400)
    assert "month" in error["fields"]


def test_an_unknown_parameter_is_refused_by_name(world):
    with seen_at():
        error = error_of(client_for(world.finance).get(DASHBOARD, {"month": "2025-11", "department": "x"}), 400)
    assert set(error["fields"]) == {"department"}
