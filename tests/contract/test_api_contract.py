"""The API's strict contract: nothing a client sends is silently ignored (issue 19).

Each class of input is refused where its rule lives, with a 400 in the error shape naming what was wrong:
an amount or currency not exactly as the contract spells it, a JSON key given twice, a body field or query
parameter the endpoint does not declare, a page size out of range. And every error Django itself answers
on an API path comes in the same shape.
"""

import datetime

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.ledger.models import Entry, Transaction
from apps.tenancy.models import Department, Role
from ledgerx.months import month_following, month_start, month_text
from tests.security import tenant_objects
from tests.security.routes import api_routes
from tests.spends import spend_reverse, spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

SPEND = {"amount": "60.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


def post_spend(client, body, key="k1"):
    return client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


# Money and codes exactly as sent


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "5.00\n"), ("amount", " 5.00"), ("currency", " USD"), ("currency", "USD\n"), ("currency", "usd")],
)
def test_a_spend_with_an_amount_or_currency_not_exactly_as_spelled_is_refused(api, tenant, field, value):
    error = error_of(post_spend(api(tenant.employee), {**SPEND, field: value}), 400)
    assert field in error["fields"]
    assert not Transaction.objects.exists()


def test_an_organization_currency_is_not_trimmed_or_upper_cased(api, system_admin):
    for currency in (" EUR", "eur"):
        response = api(system_admin).post(
            "/api/v1/organizations", {"name": "Initech", "currency": currency}, format="json"
        )
        assert "currency" in error_of(response, 400)["fields"]


# Duplicate JSON keys


@pytest.mark.parametrize(
    "body",
    [
        '{"amount": "5.00", "currency": "USD", "merchant": "Dell", "category": "equipment", "amount": "5000.00"}',
        '{"amount": "5.00", "currency": "USD", "merchant": "Dell", "merchant": "Dell", "category": "equipment"}',
    ],
)
def test_a_key_given_twice_is_refused_by_name(api, tenant, body):
    response = api(tenant.employee).post(
        "/api/v1/transactions", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    error = error_of(response, 400)
    assert set(error["fields"]) <= {"amount", "merchant"} and len(error["fields"]) == 1
    assert not Transaction.objects.exists()


# Unknown body fields


def test_an_unknown_body_field_is_refused_by_name(api, tenant):
    error = error_of(post_spend(api(tenant.employee), {**SPEND, "merchant_id": "42", "tip": "1.00"}), 400)
    assert set(error["fields"]) == {"merchant_id", "tip"}
    assert not Transaction.objects.exists()


def test_a_reversal_with_an_amount_is_refused_not_taken_for_the_whole(api, tenant):
    spend = spend_settled(tenant.employee, "100.00")
    response = api(tenant.finance).post(
        f"/api/v1/transactions/{spend.id}/reverse",
        {"reason": "Partly refunded", "amount": "10.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert set(error_of(response, 400)["fields"]) == {"amount"}
    spend.refresh_from_db()
    assert spend.status == Transaction.Status.POSTED
    assert not Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).exists()


def test_a_body_sent_where_none_is_read_is_refused(api, tenant):
    delivery = tenant_objects.webhook_delivery(tenant)
    response = api(tenant.admin).post(
        f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver", {"now": True}, format="json"
    )
    assert set(error_of(response, 400)["fields"]) == {"body"}


# Unknown query parameters, on every GET of the API


def _get_paths(tenant) -> list[str]:
    ids = tenant_objects.own_path_ids(tenant, str(spend_settled(tenant.employee, "5.00").id))
    paths = []
    for method, route in api_routes():
        if method != "GET":
            continue
        path = "/api/v1/" + route
        for name, value in ids.items():
            path = path.replace(f"<uuid:{name}>", value).replace(f"<int:{name}>", value)
        paths.append(path)
    return paths


def test_every_get_refuses_an_unknown_query_parameter_by_name(api, tenant, system_admin):
    clients = {role: api(tenant.user(role)) for role in (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN)}
    clients["system"] = api(system_admin)
    refused = []
    for path in _get_paths(tenant):
        # Whoever may read the path: the unknown parameter must be its 400, not a 403 for the role.
        answers = [client.get(path, {"merchant_name": "Dell"}) for client in clients.values()]
        allowed = [answer for answer in answers if answer.status_code != 403]
        assert allowed, path
        for answer in allowed:
            if answer.status_code == 400 and "merchant_name" in answer.json()["error"]["fields"]:
                refused.append(path)
                break
        else:
            raise AssertionError(f"{path} ignored ?merchant_name=: {[a.status_code for a in allowed]}")
    assert len(refused) >= 10


@pytest.mark.parametrize("query", ["status=posted&status=pending", "limit=1&limit=300"])
def test_a_query_parameter_given_twice_is_refused(api, tenant, query):
    error = error_of(api(tenant.finance).get(f"/api/v1/transactions?{query}"), 400)
    assert set(error["fields"]) == {query.split("=")[0]}


def test_a_write_takes_no_query_parameters(api, tenant):
    response = api(tenant.employee).post(
        "/api/v1/transactions?department=x", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert set(error_of(response, 400)["fields"]) == {"department"}


# The transaction list's filters


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_transactions_filter_by_merchant_category_amount_and_kind(api, tenant):
    dell = spend_settled(tenant.employee, "120.00", merchant="Dell", category="equipment")
    uber = spend_settled(tenant.employee, "35.50", merchant="Uber", category="travel")
    big_uber = spend_settled(tenant.employee, "900.00", merchant="Uber", category="travel")
    reversal = spend_reverse(tenant.finance, big_uber)
    client = api(tenant.finance)
    assert set(_ids(client.get("/api/v1/transactions", {"merchant": "uber"}))) == {
        str(uber.id),
        str(big_uber.id),
        str(reversal.id),
    }
    assert set(_ids(client.get("/api/v1/transactions", {"category": "equipment"}))) == {str(dell.id)}
    assert set(_ids(client.get("/api/v1/transactions", {"min_amount": "35.50", "max_amount": "120"}))) == {
        str(dell.id),
        str(uber.id),
    }
    assert _ids(client.get("/api/v1/transactions", {"kind": "reversal"})) == [str(reversal.id)]
    for bad in ({"min_amount": "-1"}, {"max_amount": "1.001"}, {"min_amount": "5.00\n"}, {"kind": "refund"}):
        assert set(error_of(client.get("/api/v1/transactions", bad), 400)["fields"]) == set(bad)


def test_transactions_order_by_amount_and_page_through_it(api, tenant):
    amounts = ["30.00", "10.00", "20.00", "10.00", "40.00"]
    spends = [spend_submit(tenant.employee, amount) for amount in amounts]
    client = api(tenant.finance)
    walked, url = [], "/api/v1/transactions?ordering=amount&limit=2"
    while url:
        page = client.get(url)
        walked += [row["amount"] for row in page.json()["results"]]
        url = page.json()["next"]
    assert walked == sorted(amounts, key=float)
    newest_first = _ids(client.get("/api/v1/transactions", {"ordering": "-created_at"}))
    assert newest_first == [str(s.id) for s in reversed(spends)]
    assert _ids(client.get("/api/v1/transactions", {"ordering": "-amount", "limit": 1})) == [str(spends[4].id)]
    assert set(error_of(client.get("/api/v1/transactions", {"ordering": "merchant"}), 400)["fields"]) == {"ordering"}


# Page sizes


def test_ledger_entries_honour_limit(api, tenant):
    for _ in range(3):
        spend_settled(tenant.employee, "5.00")
    client = api(tenant.finance)
    page = client.get("/api/v1/ledger/entries", {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    assert Entry.objects.count() > 2


@pytest.mark.parametrize("limit", ["0", "201", "-1", "two", "1.5", "\uff12"])
@pytest.mark.parametrize(
    "path", ["/api/v1/transactions", "/api/v1/ledger/entries", "/api/v1/fraud/alerts", "/api/v1/audit/events"]
)
def test_a_page_size_out_of_range_is_refused(api, tenant, path, limit):
    assert set(error_of(api(tenant.admin).get(path, {"limit": limit}), 400)["fields"]) == {"limit"}


# A department's standing monthly limit


def _patch(client, department, body):
    return client.patch(f"/api/v1/departments/{department.id}", body, format="json")


@pytest.mark.parametrize("role", [Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_the_standing_monthly_limit_is_set_for_the_months_to_come(api, tenant, role):
    this_month = month_start(datetime.datetime.now(datetime.UTC), tenant.organization.timezone)
    spend_settled(tenant.employee, "5.00")  # opens this month's period, with the limit as it was
    response = _patch(api(tenant.user(role)), tenant.department, {"monthly_limit": "7500.00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["monthly_limit"] == "7500.00"
    assert body["budget"]["limit"] == "50000.00"  # an open month's changes only through PUT .../budget
    assert Department.objects.get(id=tenant.department.id).monthly_limit_minor == 750_000
    upcoming = api(tenant.employee).get(
        f"/api/v1/departments/{tenant.department.id}/budget", {"period": month_text(month_following(this_month))}
    )
    assert upcoming.json()["limit"] == "7500.00"
    event = AuditEvent.objects.get(action=AuditEvent.Action.DEPARTMENT_UPDATED, target_id=str(tenant.department.id))
    assert (event.before["monthly_limit_minor"], event.after["monthly_limit_minor"]) == (5_000_000, 750_000)
    assert event.actor_id == tenant.user(role).id


def test_only_an_org_admin_renames_or_moves_and_an_employee_sets_no_limit(api, tenant):
    finance = api(tenant.finance)
    for body in ({"name": "R&D"}, {"name": "R&D", "monthly_limit": "1.00"}, {"parent": None}):
        assert _patch(finance, tenant.department, body).status_code == 403
    assert _patch(api(tenant.employee), tenant.department, {"monthly_limit": "1.00"}).status_code == 403
    department = Department.objects.get(id=tenant.department.id)
    assert (department.name, department.monthly_limit_minor) == ("Engineering", 5_000_000)


@pytest.mark.parametrize("limit", ["-1.00", "1.001", " 10.00", 10])
def test_a_bad_standing_limit_is_refused_by_name(api, tenant, limit):
    response = _patch(api(tenant.admin), tenant.department, {"monthly_limit": limit})
    assert set(error_of(response, 400)["fields"]) == {"monthly_limit"}


# Errors Django answers itself


def test_a_bad_host_header_answers_in_the_error_shape(tenant):
    error = error_of(Client().get("/api/v1/me", HTTP_HOST="evil.example"), 400)
    assert error["code"] == "bad_request"
    html = Client().get("/", HTTP_HOST="evil.example")
    assert html.status_code == 400 and not html["Content-Type"].startswith("application/json")


def test_unknown_api_paths_methods_and_media_types_answer_in_the_error_shape(api, tenant):
    client = api(tenant.employee)
    assert error_of(client.get("/api/v1/nothing-here"), 404)["code"] == "not_found"
    assert error_of(client.delete("/api/v1/transactions"), 405)["code"] == "method_not_allowed"
    response = client.post(
        "/api/v1/transactions", "amount=5", content_type="application/x-www-form-urlencoded", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert error_of(response, 415)["code"] == "unsupported_media_type"
    assert error_of(client.post("/api/v1/transactions", "{", content_type="application/json"), 400)
    page = Client().get("/no-such-page")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_server_error_on_an_api_path_answers_in_the_error_shape(api, tenant, monkeypatch):
    from apps.ledger import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "ledger_verify", broken)
    client = api(tenant.finance)
    client.raise_request_exception = False
    error = error_of(client.get("/api/v1/ledger/verify"), 500)
    assert error == {"code": "server_error", "message": "An internal error occurred.", "fields": {}}
