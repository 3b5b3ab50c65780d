"""The webhook API: org admins manage endpoints and read their delivery logs."""

import pytest

from apps.audit.models import AuditEvent
from apps.tenancy.models import Role
from apps.webhooks import services
from apps.webhooks.models import Delivery, WebhookEndpoint
from tests.webhooks.conftest import emit, endpoint_for

ENDPOINTS = "/api/v1/webhooks/endpoints"
PUBLIC_URL = "https://93.184.215.14/hooks/ledgerx"


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]


def _delivery(tenant) -> Delivery:
    endpoint = endpoint_for(tenant, PUBLIC_URL)
    event = emit(tenant)
    services.outbox_dispatch(event_ids=[event.id])
    return Delivery.objects.get(endpoint=endpoint)


def test_an_org_admin_registers_an_endpoint_and_sees_its_secret_once(tenant, api):
    client = api(tenant.admin)
    response = client.post(
        ENDPOINTS,
        {"url": PUBLIC_URL, "event_types": ["transaction.posted", "budget.threshold_crossed"], "description": "ERP"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert created == {
        "id": str(endpoint.id),
        "url": PUBLIC_URL,
        "description": "ERP",
        "event_types": ["budget.threshold_crossed", "transaction.posted"],
        "is_active": True,
        "disabled_reason": "",
        "consecutive_failures": 0,
        "slow": False,
        "slow_since": None,
        "latency_p95_ms": None,
        "created_at": endpoint.created_at.isoformat(),
        "updated_at": endpoint.updated_at.isoformat(),
        "secret": endpoint.secret,
    }
    assert endpoint.organization == tenant.organization

    listed = client.get(ENDPOINTS).json()["results"]
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"{ENDPOINTS}/{endpoint.id}").json()


def test_patch_changes_rotates_disables_and_enables(tenant, api):
    endpoint = endpoint_for(tenant, PUBLIC_URL)
    client = api(tenant.admin)
    response = client.patch(
        f"{ENDPOINTS}/{endpoint.id}",
        {"event_types": ["transaction.rejected"], "rotate_secret": True, "is_active": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["event_types"] == ["transaction.rejected"]
    assert body["secret"] != endpoint.secret
    assert (body["is_active"], body["disabled_reason"]) == (False, "Disabled by an admin.")

    body = client.patch(f"{ENDPOINTS}/{endpoint.id}", {"is_active": True}, format="json").json()
    assert body["is_active"] is True and "secret" not in body


def test_delete_removes_the_endpoint(tenant, api):
    endpoint = endpoint_for(tenant, PUBLIC_URL)
    assert api(tenant.admin).delete(f"{ENDPOINTS}/{endpoint.id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_lists_newest_first_and_filters_by_status(tenant, api):
    delivery = _delivery(tenant)
    second_event = emit(tenant)
    services.outbox_dispatch(event_ids=[second_event.id])
    Delivery.objects.filter(id=delivery.id).update(
        status=Delivery.Status.FAILED, attempts=3, last_response_code=500, latency_ms=12
    )
    client = api(tenant.admin)
    page = client.get(f"{ENDPOINTS}/{delivery.endpoint_id}/deliveries").json()
    assert page["next"] is None
    assert [d["event"]["id"] for d in page["results"]] == [str(second_event.id), str(delivery.event_id)]

    [failed] = client.get(f"{ENDPOINTS}/{delivery.endpoint_id}/deliveries?status=failed").json()["results"]
    assert failed["id"] == str(delivery.id)
    assert failed["event"]["type"] == "transaction.posted"
    assert (failed["status"], failed["attempts"], failed["last_response_code"], failed["latency_ms"]) == (
        "failed",
        3,
        500,
        12,
    )


def test_redeliver_answers_202_and_queues_the_delivery(tenant, api):
    delivery = _delivery(tenant)
    Delivery.objects.filter(id=delivery.id).update(status=Delivery.Status.FAILED, attempts=10, next_attempt_at=None)
    response = api(tenant.admin).post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert Delivery.objects.get(id=delivery.id).attempt_limit == 11


def test_redeliver_to_a_disabled_endpoint_is_a_conflict(tenant, api):
    delivery = _delivery(tenant)
    services.webhook_endpoint_update(endpoint=delivery.endpoint, is_active=False)
    _assert_error(api(tenant.admin).post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver"), 409, "conflict")


# Roles: only org admins manage webhooks.


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.FINANCE_MANAGER])
def test_other_roles_may_not_touch_webhooks(tenant, api, role):
    delivery = _delivery(tenant)
    client = api(tenant.user(role))
    endpoint_url = f"{ENDPOINTS}/{delivery.endpoint_id}"
    for response in (
        client.get(ENDPOINTS),
        client.post(ENDPOINTS, {"url": PUBLIC_URL, "event_types": ["transaction.posted"]}, format="json"),
        client.get(endpoint_url),
        client.patch(endpoint_url, {"is_active": False}, format="json"),
        client.delete(endpoint_url),
        client.get(f"{endpoint_url}/deliveries"),
        client.post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver"),
    ):
        _assert_error(response, 403, "forbidden")
    assert WebhookEndpoint.objects.get().is_active


def test_a_system_admin_has_no_organization_to_manage_webhooks_for(system_admin, api):
    _assert_error(api(system_admin).get(ENDPOINTS), 403, "forbidden")


def test_without_credentials_the_answer_is_401(api):
    _assert_error(api(None).get(ENDPOINTS), 401, "unauthenticated")


def test_another_tenants_endpoints_and_deliveries_do_not_exist(tenant, other_tenant, api):
    theirs = _delivery(other_tenant)
    client = api(tenant.admin)
    endpoint_url = f"{ENDPOINTS}/{theirs.endpoint_id}"
    assert client.get(ENDPOINTS).json()["results"] == []
    for response in (
        client.get(endpoint_url),
        client.patch(endpoint_url, {"is_active": False}, format="json"),
        client.delete(endpoint_url),
        client.get(f"{endpoint_url}/deliveries"),
        client.post(f"/api/v1/webhooks/deliveries/{theirs.id}/redeliver"),
    ):
        _assert_error(response, 404, "not_found")
    assert WebhookEndpoint.objects.get(id=theirs.endpoint_id).is_active


# Bad input answers 400 in the api.md shape.


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["transaction.posted"]}, "url"),
        ({"url": 42, "event_types": ["transaction.posted"]}, "url"),
        ({"url": "ftp://93.184.215.14/x", "event_types": ["transaction.posted"]}, "url"),
        ({"url": "https://no-such-host.invalid/x", "event_types": ["transaction.posted"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "event_types": ["transaction.posted"]}, "url"),
        ({"url": PUBLIC_URL}, "event_types"),
        ({"url": PUBLIC_URL, "event_types": []}, "event_types"),
        ({"url": PUBLIC_URL, "event_types": "transaction.posted"}, "event_types"),
        ({"url": PUBLIC_URL, "event_types": ["payment.sent"]}, "event_types"),
    ],
)
def test_registering_with_bad_input_is_a_400(tenant, api, settings, body, field):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    error = _assert_error(api(tenant.admin).post(ENDPOINTS, body, format="json"), 400, "invalid")
    assert field in error["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(tenant, api):
    _assert_error(api(tenant.admin).post(ENDPOINTS, ["x"], format="json"), 400, "invalid")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": "maybe"}, "is_active"),
        ({"event_types": []}, "event_types"),
        ({"url": "http://localhost/x"}, "url"),
    ],
)
def test_patching_with_bad_input_is_a_400(tenant, api, settings, body, field):
    endpoint = endpoint_for(tenant, PUBLIC_URL)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    error = _assert_error(api(tenant.admin).patch(f"{ENDPOINTS}/{endpoint.id}", body, format="json"), 400, "invalid")
    assert field in error["fields"]
    assert WebhookEndpoint.objects.get().url == PUBLIC_URL


@pytest.mark.parametrize("status", ["lost", ""])
def test_an_unknown_or_blank_delivery_status_filter_is_a_400(tenant, api, status):
    endpoint = endpoint_for(tenant, PUBLIC_URL)
    response = api(tenant.admin).get(f"{ENDPOINTS}/{endpoint.id}/deliveries?status={status}")
    assert "status" in _assert_error(response, 400, "invalid")["fields"]


def test_endpoint_changes_through_the_api_are_audited_with_their_actor(tenant, api):
    client = api(tenant.admin)
    endpoint_id = client.post(
        ENDPOINTS, {"url": PUBLIC_URL, "event_types": ["transaction.posted"]}, format="json"
    ).json()["id"]
    client.patch(f"{ENDPOINTS}/{endpoint_id}", {"description": "ERP", "rotate_secret": True}, format="json")
    client.delete(f"{ENDPOINTS}/{endpoint_id}")

    events = AuditEvent.objects.filter(target_id=endpoint_id).order_by("id")
    assert [(e.action, e.actor) for e in events] == [
        ("webhook_endpoint.created", tenant.admin),
        ("webhook_endpoint.updated", tenant.admin),
        ("webhook_endpoint.deleted", tenant.admin),
    ]
    updated = events[1]
    assert (updated.before["description"], updated.after["description"], updated.after["secret_rotated"]) == (
        "",
        "ERP",
        True,
    )
    assert all("whsec_" not in str(e.before) + str(e.after) for e in events)
