"""The month-end close endpoints of api.md: the months, a close and a reopening, on a travelled clock
(October 2025 closes on 3 November)."""

from datetime import UTC, datetime

import pytest
import time_machine

from apps.ledger.models import MonthClose
from tests.spending.test_api import assert_error
from tests.spends import spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE = "/api/v1/ledger/months/2025-10/close"
REOPEN = "/api/v1/ledger/months/2025-10/reopen"


def error_of(response, status: int, code: str) -> dict:
    assert_error(response, status, code)
    return response.json()["error"]


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2025, 11, 3, 9, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def october_spend(tenant):
    with time_machine.travel(datetime(2025, 10, 15, 12, 0, tzinfo=UTC), tick=True):
        return spend_settled(tenant.employee, "40.00")


def test_finance_closes_a_month_and_an_org_admin_reopens_it(api, tenant, october_spend, clock):
    assert api(tenant.finance).get("/api/v1/ledger/months").json() == {
        "results": [
            {
                "month": "2025-10",
                "state": "open",
                "entries": 2,
                "closed_at": None,
                "closed_by": None,
                "reopened_at": None,
                "reopened_by": None,
                "reopen_reason": None,
            }
        ]
    }
    closed = api(tenant.finance).post(CLOSE, {}, format="json")
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert (body["month"], body["state"], body["closed_by"]) == ("2025-10", "closed", tenant.finance.email)
    assert body["closed_at"] == MonthClose.objects.get().acted_at.isoformat()

    assert_error(api(tenant.finance).post(REOPEN, {"reason": "Late invoice"}, format="json"), 403, "forbidden")
    reopened = api(tenant.admin).post(REOPEN, {"reason": "Late invoice"}, format="json")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json() | {"reopened_at": None} == {
        "month": "2025-10",
        "state": "open",
        "entries": 2,
        "closed_at": None,
        "closed_by": None,
        "reopened_at": None,
        "reopened_by": tenant.admin.email,
        "reopen_reason": "Late invoice",
    }
    # The admin closes too.
    assert api(tenant.admin).post(CLOSE, format="json").json()["state"] == "closed"


def test_an_employee_may_neither_list_close_nor_reopen(api, tenant, october_spend, clock):
    client = api(tenant.employee)
    assert_error(client.get("/api/v1/ledger/months"), 403, "forbidden")
    assert_error(client.post(CLOSE, {}, format="json"), 403, "forbidden")
    assert_error(client.post(REOPEN, {"reason": "x"}, format="json"), 403, "forbidden")
    assert not MonthClose.objects.exists()


def test_a_tenant_closes_its_own_month_only(api, tenant, other_tenant, october_spend, clock):
    with time_machine.travel(datetime(2025, 10, 20, tzinfo=UTC), tick=True):
        spend_settled(other_tenant.employee, "5.00")
    assert api(tenant.finance).post(CLOSE, format="json").status_code == 200
    [other_month] = api(other_tenant.finance).get("/api/v1/ledger/months").json()["results"]
    assert (other_month["state"], other_month["entries"]) == ("open", 2)
    # Another tenant's admin cannot reopen this tenant's month: for them it is their own, open.
    assert_error(api(other_tenant.admin).post(REOPEN, {"reason": "x"}, format="json"), 409, "conflict")
    assert MonthClose.objects.get().organization == tenant.organization


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/ledger/months/2025-13/close", {}, "month"),
        ("/api/v1/ledger/months/October/close", {}, "month"),
        ("/api/v1/ledger/months/9999-12/close", {}, "month"),
        ("/api/v1/ledger/months/2025-11/close", {}, "month"),  # not ended on 3 November
        (CLOSE, {"force": True}, "force"),
        (REOPEN, {}, "reason"),
        (REOPEN, {"reason": "x", "when": "now"}, "when"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(api, tenant, october_spend, clock, url, body, field):
    error = error_of(api(tenant.admin).post(url, body, format="json"), 400, "invalid")
    assert field in error["fields"]
    assert not MonthClose.objects.exists()


def test_a_month_with_spends_waiting_is_refused_with_their_list(api, tenant, october_spend):
    with time_machine.travel(datetime(2025, 10, 30, tzinfo=UTC), tick=True):
        waiting = spend_submit(tenant.employee, "3.00")
    with time_machine.travel(datetime(2025, 11, 3, tzinfo=UTC), tick=True):
        error = error_of(api(tenant.finance).post(CLOSE, format="json"), 400, "invalid")
    assert error["fields"] == {"transactions": [f"{waiting.id} (pending)"]}
    assert "pending or awaiting approval" in error["message"]
    assert not MonthClose.objects.exists()


def test_closing_twice_or_reopening_an_open_month_is_a_conflict(api, tenant, october_spend, clock):
    assert_error(api(tenant.admin).post(REOPEN, {"reason": "x"}, format="json"), 409, "conflict")
    api(tenant.finance).post(CLOSE, format="json")
    assert_error(api(tenant.finance).post(CLOSE, format="json"), 409, "conflict")
    assert MonthClose.objects.count() == 1
