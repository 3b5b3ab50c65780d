"""The alerts API of api.md, and `risk` on the transaction API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.fraud.models import FraudAlert, Rule
from apps.tenancy.models import Role
from tests.fraud.conftest import BASE_TIME, make_spend, score

FINANCE = (Role.FINANCE_MANAGER, Role.ORG_ADMIN)


def blocked_spend(tenant, hours: int = 0):
    """A settled spend in a blocked category, scored: one open alert."""
    spend = make_spend(tenant.employee, 5000, at=BASE_TIME + timedelta(hours=hours), category="gambling")
    score(spend)
    return spend, FraudAlert.objects.get(transaction=spend)


@pytest.mark.parametrize("role", FINANCE)
def test_finance_and_admins_list_open_alerts(api, tenant, other_tenant, role):
    spend, alert = blocked_spend(tenant)
    blocked_spend(other_tenant)
    response = api(tenant.user(role)).get("/api/v1/fraud/alerts?status=open")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert body["results"] == [
        {
            "id": str(alert.id),
            "transaction": str(spend.id),
            "rule": "blocked_category",
            "score": 1.0,
            "detail": "Category 'gambling' is blocked at Acme.",
            "status": "open",
            "created_at": alert.created_at.isoformat(),
            "resolution": None,
            "note": "",
            "resolved_by": None,
            "resolved_at": None,
        }
    ]


def test_alerts_filter_by_status(api, tenant):
    _, resolved = blocked_spend(tenant)
    _, still_open = blocked_spend(tenant, hours=1)
    client = api(tenant.finance)
    client.post(f"/api/v1/fraud/alerts/{resolved.id}/resolve", {"resolution": "legitimate"}, format="json")
    ids = lambda status: [a["id"] for a in client.get(f"/api/v1/fraud/alerts?status={status}").json()["results"]]  # noqa: E731
    assert ids("open") == [str(still_open.id)]
    assert ids("resolved") == [str(resolved.id)]
    everything = client.get("/api/v1/fraud/alerts").json()["results"]
    assert {a["id"] for a in everything} == {str(resolved.id), str(still_open.id)}


@pytest.mark.parametrize(
    "query", ["status=closed", "status=", "rule=nonsense", "transaction=not-a-uuid", "cursor=mangled", "limit=0"]
)
def test_bad_filters_answer_400_in_the_api_shape(api, tenant, query):
    response = api(tenant.finance).get(f"/api/v1/fraud/alerts?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert query.split("=")[0] in response.json()["error"]["fields"]


def test_employees_and_system_admins_may_not_see_alerts(api, tenant, system_admin):
    alert = blocked_spend(tenant)[1]
    for user in (tenant.employee, system_admin):
        client = api(user)
        assert client.get("/api/v1/fraud/alerts").status_code == 403
        resolve = client.post(f"/api/v1/fraud/alerts/{alert.id}/resolve", {"resolution": "fraud"}, format="json")
        assert resolve.status_code == 403
    assert api(None).get("/api/v1/fraud/alerts").status_code == 401


@pytest.mark.parametrize("role", FINANCE)
def test_resolving_an_alert_records_who_and_why(api, tenant, role):
    _, alert = blocked_spend(tenant)
    reviewer = tenant.user(role)
    response = api(reviewer).post(
        f"/api/v1/fraud/alerts/{alert.id}/resolve",
        {"resolution": "fraud", "note": "Card reported stolen."},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["resolution"], body["note"]) == ("resolved", "fraud", "Card reported stolen.")
    assert body["resolved_by"] == {"id": str(reviewer.id), "email": reviewer.email}
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by, alert.resolved_at is not None) == ("resolved", reviewer, True)


def test_resolving_twice_is_a_conflict(api, tenant):
    _, alert = blocked_spend(tenant)
    client = api(tenant.finance)
    url = f"/api/v1/fraud/alerts/{alert.id}/resolve"
    assert client.post(url, {"resolution": "legitimate"}, format="json").status_code == 200
    second = client.post(url, {"resolution": "fraud"}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["message"] == "This alert was already resolved as legitimate."


def test_a_resolution_is_in_the_audit_log_and_a_new_alert_is_a_webhook_event(api, tenant):
    from apps.audit.models import AuditEvent
    from apps.webhooks.models import EventType, OutboxEvent

    _, alert = blocked_spend(tenant)
    event = OutboxEvent.objects.get(type=EventType.FRAUD_ALERT_CREATED)
    assert event.payload["alert"]["id"] == str(alert.id)
    assert event.organization_id == tenant.organization.id
    api(tenant.finance).post(f"/api/v1/fraud/alerts/{alert.id}/resolve", {"resolution": "fraud"}, format="json")
    audit = AuditEvent.objects.get(action=AuditEvent.Action.FRAUD_ALERT_RESOLVED)
    assert audit.actor_id == tenant.finance.id
    assert audit.after["resolution"] == "fraud"


def test_another_tenants_alert_is_not_found(api, tenant, other_tenant):
    _, alert = blocked_spend(other_tenant)
    response = api(tenant.finance).post(
        f"/api/v1/fraud/alerts/{alert.id}/resolve", {"resolution": "fraud"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    alert.refresh_from_db()
    assert alert.status == "open"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"resolution": "maybe"}, "resolution"), ({}, "resolution"), ({"resolution": "fraud", "note": 5}, "note")],
)
def test_bad_resolutions_answer_400(api, tenant, body, field):
    _, alert = blocked_spend(tenant)
    response = api(tenant.finance).post(f"/api/v1/fraud/alerts/{alert.id}/resolve", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("role", FINANCE)
def test_finance_sees_which_rules_fired_on_a_spend(api, tenant, role):
    spend, alert = blocked_spend(tenant)
    client = api(tenant.user(role))
    risk = client.get(f"/api/v1/transactions/{spend.id}").json()["risk"]
    assert risk == {
        "under_review": True,
        "flagged": True,
        "alerts": [
            {
                "id": str(alert.id),
                "rule": Rule.BLOCKED_CATEGORY,
                "score": 1.0,
                "detail": alert.detail,
                "status": "open",
                "resolution": None,
                "created_at": alert.created_at.isoformat(),
            }
        ],
    }
    listed = client.get("/api/v1/transactions").json()["results"]
    assert [t["risk"] for t in listed] == [risk]
    client.post(f"/api/v1/fraud/alerts/{alert.id}/resolve", {"resolution": "legitimate"}, format="json")
    risk = client.get(f"/api/v1/transactions/{spend.id}").json()["risk"]
    assert risk["under_review"] is False and risk["flagged"] is False
    assert risk["alerts"][0]["resolution"] == "legitimate"


def test_an_employee_sees_only_that_their_spend_is_under_review(api, tenant):
    """Never the rule, score or detail: the detail names the threshold, which would teach how to stay under it."""
    spend, alert = blocked_spend(tenant)
    client = api(tenant.employee)
    detail = client.get(f"/api/v1/transactions/{spend.id}")
    listed = client.get("/api/v1/transactions")
    assert detail.json()["risk"] == {"under_review": True}
    assert [t["risk"] for t in listed.json()["results"]] == [{"under_review": True}]
    for body in (detail.content.decode(), listed.content.decode()):
        assert Rule.BLOCKED_CATEGORY not in body and alert.detail not in body and "score" not in body

    api(tenant.finance).post(f"/api/v1/fraud/alerts/{alert.id}/resolve", {"resolution": "fraud"}, format="json")
    assert client.get(f"/api/v1/transactions/{spend.id}").json()["risk"] == {"under_review": False}


def test_a_clean_spend_is_not_under_review(api, tenant):
    spend = make_spend(tenant.employee, 5000)
    score(spend)
    url = f"/api/v1/transactions/{spend.id}"
    assert api(tenant.employee).get(url).json()["risk"] == {"under_review": False}
    assert api(tenant.finance).get(url).json()["risk"] == {"under_review": False, "flagged": False, "alerts": []}


@pytest.mark.parametrize(
    ("role", "risk"),
    [
        (Role.EMPLOYEE, {"under_review": False}),
        (Role.FINANCE_MANAGER, {"under_review": False, "flagged": False, "alerts": []}),
        (Role.ORG_ADMIN, {"under_review": False, "flagged": False, "alerts": []}),
    ],
)
def test_a_spend_just_accepted_is_not_under_review_in_the_shape_the_role_sees(api, tenant, role, risk):
    body = {
        "amount": "5.00",
        "currency": "USD",
        "merchant": "Office Depot",
        "category": "supplies",
        "department": str(tenant.department.id),  # finance has no department of its own
    }
    accepted = api(tenant.user(role)).post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["risk"] == risk


def test_transaction_list_reads_alerts_without_a_query_per_row(api, tenant):
    client = api(tenant.finance)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/transactions").status_code == 200
        return len(captured)

    blocked_spend(tenant)
    queries_for_list()  # the first request also looks the token up; later ones find it cached
    few = queries_for_list()
    for hours in range(1, 6):
        blocked_spend(tenant, hours=hours)
    assert queries_for_list() == few
    flagged = [t["risk"]["flagged"] for t in client.get("/api/v1/transactions").json()["results"]]
    assert flagged == [True] * 6
