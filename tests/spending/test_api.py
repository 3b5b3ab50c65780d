"""The spend endpoints of api.md: happy paths, role matrix, other tenants, bad input."""

from unittest.mock import ANY

import pytest
from django.urls import set_script_prefix

from apps.ledger.models import Transaction
from apps.tenancy.models import Role
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

SPEND = {"amount": "6000.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def post_spend(client, body=SPEND, key="k1"):
    return client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_tenant_roles_submit_spends(api, tenant, role):
    body = {**SPEND, "department": str(tenant.department.id)}
    response = post_spend(api(tenant.user(role)), body)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["amount"] == "6000.00"
    assert body["department"] == {"id": str(tenant.department.id), "name": "Engineering"}
    assert response["Location"] == f"/api/v1/transactions/{body['id']}"


def test_location_follows_the_script_prefix(api, tenant):
    client = api(tenant.employee)
    # The test client leaves the prefix alone; a WSGI server sets it from SCRIPT_NAME per request.
    set_script_prefix("/spend/")
    try:
        mounted = post_spend(client, key="a")
    finally:
        set_script_prefix("/")
    plain = post_spend(client, key="b")
    assert mounted["Location"] == f"/spend/api/v1/transactions/{mounted.json()['id']}"
    assert plain["Location"] == f"/api/v1/transactions/{plain.json()['id']}"


def test_system_admin_and_anonymous_cannot_submit(api, tenant, system_admin):
    assert_error(post_spend(api(system_admin)), 403, "forbidden")
    assert_error(post_spend(api(None)), 401, "unauthenticated")
    bad_token = api(None)
    bad_token.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(post_spend(bad_token), 401)
    assert not Transaction.objects.exists()


def test_replay_returns_the_first_response_with_the_replayed_header(api, tenant):
    client = api(tenant.employee)
    first = post_spend(client, key="same")
    settle_all(tenant.organization)
    again = post_spend(client, key="same")
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert_error(post_spend(client, {**SPEND, "amount": "1.00"}, key="same"), 422, "idempotency_key_reused")
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "0"},
        {"amount": "-5"},
        {"amount": "1e3"},
        {"amount": "0.001"},
        {"amount": "NaN"},
        {"amount": "100000000000000000"},
        {"amount": 6000},
        {"amount": 60.5},
        {"currency": "XYZ"},
        {"currency": "XAU"},
        {"merchant": ""},
        {"category": None},
        {"department": "not-a-uuid"},
    ],
)
def test_bad_input_is_400_and_writes_nothing(api, tenant, change):
    response = post_spend(api(tenant.employee), {**SPEND, **change})
    assert_error(response, 400, "invalid")
    assert response.json()["error"]["fields"]
    assert not Transaction.objects.exists()


def test_a_currency_without_a_rate_is_400_fx_rate_missing_and_writes_nothing(api, tenant):
    response = post_spend(api(tenant.employee), {**SPEND, "currency": "EUR"})
    assert_error(response, 400, "fx_rate_missing")
    assert "No EUR to USD rate for" in response.json()["error"]["message"]
    assert response.json()["error"]["fields"] == {"currency": [ANY]}
    assert not Transaction.objects.exists()


def test_missing_or_bad_idempotency_key_is_400(api, tenant):
    client = api(tenant.employee)
    assert_error(client.post("/api/v1/transactions", SPEND, format="json"), 400)
    assert_error(post_spend(client, key="x" * 256), 400)
    assert_error(
        client.post("/api/v1/transactions", "[1]", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"), 400
    )
    assert_error(
        client.post("/api/v1/transactions", "{bad", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"), 400
    )
    assert not Transaction.objects.exists()


def test_unknown_or_other_tenants_department_is_404(api, tenant, other_tenant):
    body = {**SPEND, "department": str(other_tenant.department.id)}
    assert_error(post_spend(api(tenant.finance), body), 404, "not_found")
    assert_error(post_spend(api(tenant.employee), body), 404, "not_found")
    assert not Transaction.objects.exists()


def test_detail_visibility(api, tenant, other_tenant):
    spend = spend_submit(tenant.employee, "10.00")
    url = f"/api/v1/transactions/{spend.id}"
    assert api(tenant.employee).get(url).status_code == 200
    assert api(tenant.finance).get(url).status_code == 200
    assert api(tenant.admin).get(url).status_code == 200
    assert_error(api(tenant.other_employee).get(url), 404)  # a colleague's spend does not exist for you
    assert_error(api(other_tenant.finance).get(url), 404)
    assert_error(api(other_tenant.employee).get(url), 404)
    body = api(tenant.employee).get(url).json()
    assert set(body) >= {
        "id",
        "status",
        "amount",
        "currency",
        "merchant",
        "category",
        "description",
        "department",
        "employee",
        "created_at",
        "processed_at",
        "rejection_reason",
        "reversal_of",
        "reversed_by",
        "risk",
    }


def test_list_is_scoped_filtered_and_paginated(api, tenant, other_tenant):
    mine = [spend_submit(tenant.employee, "1.00") for _ in range(3)]
    spend_submit(tenant.other_employee, "2.00")
    spend_submit(other_tenant.employee, "3.00")
    employee_ids = [t["id"] for t in api(tenant.employee).get("/api/v1/transactions").json()["results"]]
    assert employee_ids == [str(t.id) for t in reversed(mine)]
    finance = api(tenant.finance)
    assert len(finance.get("/api/v1/transactions").json()["results"]) == 4
    page = finance.get("/api/v1/transactions?limit=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = finance.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    assert len(finance.get(f"/api/v1/transactions?employee={tenant.employee.id}").json()["results"]) == 3
    assert finance.get("/api/v1/transactions?status=posted").json()["results"] == []
    assert_error(finance.get("/api/v1/transactions?status=lost"), 400)
    assert_error(finance.get("/api/v1/transactions?since=yesterday"), 400)


def test_reverse_endpoint(api, tenant, other_tenant):
    spend = spend_submit(tenant.employee, "10.00")
    settle_all(tenant.organization)
    url = f"/api/v1/transactions/{spend.id}/reverse"
    body = {"reason": "duplicate"}
    assert_error(api(tenant.employee).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r"), 403)
    assert_error(api(other_tenant.finance).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r"), 404)
    assert_error(api(tenant.finance).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="r"), 400)
    response = api(tenant.finance).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert response.status_code == 201, response.content
    assert response.json()["reversal_of"] == str(spend.id)
    original = api(tenant.finance).get(f"/api/v1/transactions/{spend.id}").json()
    assert original["status"] == "reversed" and original["reversed_by"] == response.json()["id"]
    assert_error(api(tenant.admin).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r2"), 409, "conflict")
