"""POST /api/v1/transactions/bulk (api.md, "Bulk submission"): every item decided as the single POST decides
it and answered at its index, the batch replayed byte for byte, the role matrix, other tenants, bad input."""

import uuid

import orjson
import pytest

from apps.ledger.models import Transaction
from apps.spending.models import SpendBatch
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Role
from tests.factories import DepartmentFactory
from tests.security import tenant_objects
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/transactions/bulk"
SPEND = {"amount": "12.50", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def post_bulk(client, items, key="batch-1"):
    return client.post(URL, {"items": items}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def post_single(client, body, key):
    return client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code
    return error


def test_a_batch_of_1000_with_bad_items_answers_each_as_a_single_post_would_and_replays_identically(
    api, tenant, other_tenant
):
    client = api(tenant.finance)
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    base = {**SPEND, "department": str(tenant.department.id)}  # finance has no department of its own
    bad = {
        3: {**base, "amount": "-5"},
        10: {**base, "amount": 12.5},
        77: {**base, "amount": "1.001"},
        100: {**base, "currency": "XYZ"},
        101: {**base, "currency": "usd"},
        102: {**base, "currency": "EUR"},  # no rate for the day
        200: {**base, "department": str(uuid.uuid4())},
        201: {**base, "department": str(other_tenant.department.id)},
        300: {**base, "merchant": ""},
        301: {**base, "tip": "1.00"},
        302: {k: v for k, v in base.items() if k != "category"},
        999: {**base, "department": "not-a-uuid"},
    }
    items = [bad.get(index, {**base, "amount": f"{1 + index % 50}.00"}) for index in range(1000)]
    items[500] = {**base, "department": str(sales.id), "description": "  For the sales team  "}

    response = post_bulk(client, items)

    assert response.status_code == 200, response.content[:500]
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert (body["accepted"], body["refused"]) == (1000 - len(bad), len(bad))
    results = body["results"]
    assert [result["index"] for result in results] == list(range(1000))
    # Each refused item answers what the single POST answers for the same body, status and error alike.
    for index, item in bad.items():
        single = post_single(client, item, key=f"single-{index}")
        assert single.status_code != 202, index
        assert (results[index]["status"], {"error": results[index]["error"]}) == (single.status_code, single.json())
        assert "transaction" not in results[index]
    assert results[201]["status"] == 404 and results[201]["error"]["code"] == "not_found"
    assert results[102]["error"]["code"] == "fx_rate_missing"
    assert set(results[301]["error"]["fields"]) == {"tip"}
    accepted = [result for result in results if result["status"] == 202]
    assert len(accepted) == 1000 - len(bad)
    assert all(set(result) == {"index", "status", "transaction"} for result in accepted)
    assert accepted[0]["transaction"]["status"] == "pending" and accepted[0]["transaction"]["amount"] == "1.00"
    assert results[500]["transaction"]["department"] == {"id": str(sales.id), "name": "Sales"}
    assert results[500]["transaction"]["description"] == "For the sales team"
    # Exactly the accepted ones are recorded, as their answers show them, in the order of the batch.
    stored = Transaction.objects.filter(idempotency_key__startswith="bulk:").order_by("created_at")
    assert [str(spend.id) for spend in stored] == [result["transaction"]["id"] for result in accepted]
    detail = client.get(f"/api/v1/transactions/{accepted[7]['transaction']['id']}").json()
    assert {k: detail[k] for k in ("amount", "merchant", "status")} == {
        k: accepted[7]["transaction"][k] for k in ("amount", "merchant", "status")
    }

    replay = post_bulk(client, items)
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == response.content
    assert Transaction.objects.filter(idempotency_key__startswith="bulk:").count() == len(accepted)

    changed = [*items[:-1], SPEND]
    assert_error(post_bulk(client, changed), 422, "idempotency_key_reused")
    assert_error(post_bulk(api(tenant.admin), items), 422, "idempotency_key_reused")  # another spender's request
    assert SpendBatch.objects.count() == 1
    assert Transaction.objects.filter(idempotency_key__startswith="bulk:").count() == len(accepted)


def test_a_replay_answers_the_first_answer_after_settlement_and_a_freeze(api, tenant):
    client = api(tenant.employee)
    first = post_bulk(client, [SPEND, {**SPEND, "currency": "EUR"}], key="keep")
    settle_all(tenant.organization)
    tenancy_services.user_freeze(actor=tenant.finance, user=tenant.employee, reason="Card stolen.")
    again = post_bulk(api(tenant.employee), [SPEND, {**SPEND, "currency": "EUR"}], key="keep")
    assert again.status_code == 200 and again.content == first.content
    assert again.json()["results"][0]["transaction"]["status"] == "pending"  # as first answered
    assert_error(post_bulk(api(tenant.employee), [SPEND], key="after-the-freeze"), 403, "forbidden")


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_tenant_roles_submit_batches_of_their_own_spends(api, tenant, role):
    user = tenant.user(role)
    items = [{**SPEND, "department": str(tenant.department.id)}, SPEND]
    response = post_bulk(api(user), items)
    assert response.status_code == 200, response.content
    body = response.json()
    if role == Role.EMPLOYEE:
        assert [result["status"] for result in body["results"]] == [202, 202]
    else:  # finance and admins have no department of their own: they name it, as for a single spend
        assert [result["status"] for result in body["results"]] == [202, 400]
        assert body["results"][1]["error"]["fields"] == {"department": ["This field is required."]}
    for result in body["results"]:
        if result["status"] == 202:
            assert result["transaction"]["employee"] == {"id": str(user.id), "email": user.email}
    assert set(Transaction.objects.values_list("employee_id", flat=True)) == {user.id}


def test_an_employee_spends_from_her_own_department_only_item_by_item(api, tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    items = [SPEND, {**SPEND, "department": str(sales.id)}]
    employee = post_bulk(api(tenant.employee), items, key="employee").json()["results"]
    assert [result["status"] for result in employee] == [202, 403]
    assert employee[1]["error"]["code"] == "forbidden"
    assert post_single(api(tenant.employee), items[1], key="single").status_code == 403
    finance = post_bulk(api(tenant.finance), [items[1]], key="finance").json()["results"]
    assert finance[0]["status"] == 202 and finance[0]["transaction"]["department"]["id"] == str(sales.id)
    # Items carry no spender: the employee of every spend is the caller, always.
    smuggled = post_bulk(api(tenant.employee), [{**SPEND, "employee": str(tenant.other_employee.id)}], key="smuggle")
    assert smuggled.json()["results"][0]["error"]["fields"] == {"employee": ["Unknown field."]}
    assert not Transaction.objects.filter(employee=tenant.other_employee).exists()


def test_system_admin_and_anonymous_cannot_submit_batches(api, tenant, system_admin):
    assert_error(post_bulk(api(system_admin), [SPEND]), 403, "forbidden")
    assert_error(post_bulk(api(None), [SPEND]), 401, "unauthenticated")
    assert not SpendBatch.objects.exists() and not Transaction.objects.exists()


def test_another_tenants_department_is_that_items_404_and_another_tenants_key_is_its_own(api, tenant, other_tenant):
    item = {**SPEND, "department": str(other_tenant.department.id)}
    for user in (tenant.employee, tenant.finance):
        results = post_bulk(api(user), [item, SPEND], key=f"k-{user.id}").json()["results"]
        assert results[0]["status"] == 404 and results[0]["error"] == {
            "code": "not_found",
            "message": "Department not found.",
            "fields": {},
        }
    mine = post_bulk(api(tenant.employee), [SPEND], key="shared")
    theirs = post_bulk(api(other_tenant.employee), [SPEND], key="shared")
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["results"][0]["transaction"]["id"] != theirs.json()["results"][0]["transaction"]["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [SPEND] * 1001}, "items"),
        ({"items": []}, "items"),
        ({}, "items"),
        ({"items": SPEND}, "items"),
        ({"items": [SPEND, "not an object"]}, "items"),
        ({"items": [SPEND], "dry_run": True}, "dry_run"),
    ],
)
def test_a_bad_batch_is_400_and_writes_nothing(api, tenant, body, field):
    response = api(tenant.employee).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert field in assert_error(response, 400, "invalid")["fields"]
    assert not SpendBatch.objects.exists() and not Transaction.objects.exists()
    # The key is not taken: a good batch under it is accepted.
    assert post_bulk(api(tenant.employee), [SPEND], key="bad").json()["accepted"] == 1


def test_the_batch_needs_an_idempotency_key(api, tenant):
    client = api(tenant.employee)
    assert "Idempotency-Key" in assert_error(client.post(URL, {"items": [SPEND]}, format="json"), 400)["fields"]
    assert_error(post_bulk(client, [SPEND], key="x" * 256), 400)
    assert not Transaction.objects.exists()


def test_a_policy_rule_refuses_an_item_as_it_refuses_a_single_spend(api, tenant):
    tenant_objects.spend_rule(tenant)  # blocked category: lottery
    results = post_bulk(api(tenant.employee), [SPEND, {**SPEND, "category": "Lottery"}]).json()["results"]
    assert [result["status"] for result in results] == [202, 403]
    assert results[1]["error"]["code"] == "policy_refused"
    single = post_single(api(tenant.employee), {**SPEND, "category": "Lottery"}, key="single")
    assert single.json() == {"error": results[1]["error"]}


def test_the_rate_limit_counts_each_item_and_refuses_the_whole_batch(api, tenant, settings):
    settings.RATE_LIMIT_SPEND_PER_USER = (5, 60)
    client = api(tenant.employee)
    assert_error(post_bulk(client, [SPEND] * 6, key="six"), 429, "rate_limited")
    assert not Transaction.objects.exists() and not SpendBatch.objects.exists()
    first = post_bulk(client, [SPEND] * 5, key="five")
    assert first.json()["accepted"] == 5
    assert_error(post_single(client, SPEND, key="one-more"), 429, "rate_limited")
    # A replay is answered from the batch's record, whatever the limit says.
    assert post_bulk(client, [SPEND] * 5, key="five").content == first.content
    assert Transaction.objects.count() == 5


def test_a_batch_of_long_spends_over_a_mebibyte_fits_and_a_larger_body_is_413(api, tenant):
    client = api(tenant.employee)
    long_item = {**SPEND, "merchant": "M" * 200, "category": "c" * 64, "description": "d" * 1000}
    items = [long_item] * 1000
    assert len(orjson.dumps({"items": items})) > 1024 * 1024
    response = post_bulk(client, items, key="long")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["accepted"] == 1000
    padded = {"items": items, "padding": "p" * (4 * 1024 * 1024)}
    assert_error(client.post(URL, padded, format="json", HTTP_IDEMPOTENCY_KEY="huge"), 413, "too_large")
