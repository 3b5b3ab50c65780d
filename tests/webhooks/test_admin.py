"""The back office: endpoints and the delivery log, scoped to the staff user's organization."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.webhooks import services
from apps.webhooks.models import Delivery, WebhookEndpoint
from tests.factories import login_verified
from tests.webhooks.conftest import emit, endpoint_for

DELIVERIES = "/admin/webhooks/delivery/"
ENDPOINTS = "/admin/webhooks/webhookendpoint/"


def _delivery(tenant, url: str) -> Delivery:
    endpoint = endpoint_for(tenant, url)
    event = emit(tenant)
    services.outbox_dispatch(event_ids=[event.id])
    return Delivery.objects.get(endpoint=endpoint)


@pytest.fixture
def deliveries(tenant, other_tenant):
    return _delivery(tenant, "https://93.184.215.14/acme-hook"), _delivery(other_tenant, "https://93.184.215.14/globex")


def _client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_an_org_admin_sees_only_the_own_organizations_log(tenant, deliveries):
    ours, theirs = deliveries
    client = _client(tenant.admin)
    for url in (DELIVERIES, ENDPOINTS):
        page = client.get(url)
        assert page.status_code == 200
        assert b"acme-hook" in page.content and b"globex" not in page.content
    assert client.get(f"{DELIVERIES}{theirs.id}/change/").status_code == 302  # not found: back to the list
    assert client.get(f"{DELIVERIES}{ours.id}/change/").status_code == 200


def test_the_endpoint_list_links_to_its_delivery_log(tenant, deliveries):
    ours, _ = deliveries
    _delivery(tenant, "https://93.184.215.14/acme-second")
    client = _client(tenant.admin)
    log_url = f"{DELIVERIES}?endpoint__id__exact={ours.endpoint_id}"
    assert log_url in client.get(ENDPOINTS).content.decode()
    page = client.get(log_url)
    assert page.status_code == 200
    assert b"acme-hook" in page.content and b"acme-second" not in page.content


def test_a_system_admin_sees_every_organization(system_admin, deliveries):
    page = _client(system_admin).get(DELIVERIES)
    assert b"acme-hook" in page.content and b"globex" in page.content


def test_finance_managers_do_not_see_webhooks(tenant, deliveries):
    client = _client(tenant.finance)
    assert client.get(DELIVERIES).status_code == 403
    assert client.get(ENDPOINTS).status_code == 403


def test_the_log_is_read_only(tenant, deliveries):
    ours, _ = deliveries
    client = _client(tenant.admin)
    assert client.get(f"{DELIVERIES}add/").status_code == 403
    assert client.post(f"{DELIVERIES}{ours.id}/delete/", {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(id=ours.id).exists()


def test_the_redeliver_action_queues_only_the_own_organizations_deliveries(tenant, deliveries):
    ours, theirs = deliveries
    Delivery.objects.update(status=Delivery.Status.FAILED, attempts=3, next_attempt_at=None)
    response = _client(tenant.admin).post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [str(ours.id), str(theirs.id)]}
    )
    assert response.status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.status, ours.attempt_limit) == (Delivery.Status.PENDING, 4)
    assert theirs.status == Delivery.Status.FAILED


def test_the_disable_and_enable_actions_go_through_the_service(tenant, deliveries):
    ours, _ = deliveries
    client = _client(tenant.admin)
    client.post(ENDPOINTS, {"action": "disable", "_selected_action": [str(ours.endpoint_id)]})
    endpoint = WebhookEndpoint.objects.get(id=ours.endpoint_id)
    assert (endpoint.is_active, endpoint.disabled_reason) == (False, "Disabled by an admin.")
    assert Delivery.objects.get(id=ours.id).status == Delivery.Status.PAUSED
    client.post(ENDPOINTS, {"action": "enable", "_selected_action": [str(ours.endpoint_id)]})
    assert WebhookEndpoint.objects.get(id=ours.endpoint_id).is_active
    assert Delivery.objects.get(id=ours.id).status == Delivery.Status.PENDING


def test_the_log_is_searchable_by_event_id(tenant, deliveries):
    ours, _ = deliveries
    client = _client(tenant.admin)
    found = client.get(f"{DELIVERIES}?q={ours.event_id}")
    assert found.status_code == 200 and b"acme-hook" in found.content
    assert client.get(f"{DELIVERIES}?q=not-an-id").status_code == 200


# Org admins add, change and delete endpoints in the back office, through the services, audited.


def _endpoint_form(**fields) -> dict:
    return {
        "url": "https://93.184.215.14/new-hook",
        "description": "ERP",
        "event_types": ["transaction.posted"],
        **fields,
    }


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_an_org_admin_adds_an_endpoint_and_sees_its_secret_once(tenant):
    client = _client(tenant.admin)
    assert client.get(f"{ENDPOINTS}add/").status_code == 200

    response = client.post(f"{ENDPOINTS}add/", _endpoint_form(), follow=True)

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.organization, endpoint.url, endpoint.event_types, endpoint.description) == (
        tenant.organization,
        "https://93.184.215.14/new-hook",
        ["transaction.posted"],
        "ERP",
    )
    assert any(endpoint.secret in message for message in _messages(response))
    assert endpoint.secret not in client.get(f"{ENDPOINTS}{endpoint.id}/change/").content.decode()
    event = AuditEvent.objects.get(action="webhook_endpoint.created")
    assert (event.actor, event.target_id, event.after["url"]) == (tenant.admin, str(endpoint.id), endpoint.url)
    assert "secret" not in str(event.after)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "ftp://93.184.215.14/hook"}, "Only http and https URLs are allowed."),
        ({"event_types": []}, "This field is required."),
        ({"event_types": ["no.such"]}, "Select a valid choice."),
    ],
)
def test_a_bad_endpoint_is_refused_beside_its_field(tenant, fields, error):
    response = _client(tenant.admin).post(f"{ENDPOINTS}add/", _endpoint_form(**fields))
    assert response.status_code == 200 and error in response.content.decode()
    assert not WebhookEndpoint.objects.exists() and not AuditEvent.objects.filter(action__startswith="webhook").exists()


def test_an_org_admin_changes_an_endpoint_through_the_service(tenant):
    endpoint = endpoint_for(tenant, "https://93.184.215.14/old")
    old_secret = endpoint.secret
    client = _client(tenant.admin)

    response = client.post(
        f"{ENDPOINTS}{endpoint.id}/change/",
        _endpoint_form(url="https://93.184.215.14/new", is_active="", rotate_secret="on"),
        follow=True,
    )

    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.is_active, endpoint.disabled_reason) == (
        "https://93.184.215.14/new",
        False,
        "Disabled by an admin.",  # the service's way of disabling, so it went through it
    )
    assert endpoint.secret != old_secret and any(endpoint.secret in m for m in _messages(response))
    event = AuditEvent.objects.get(action="webhook_endpoint.updated")
    assert event.actor == tenant.admin
    assert (event.before["url"], event.after["url"], event.after["secret_rotated"]) == (
        "https://93.184.215.14/old",
        "https://93.184.215.14/new",
        True,
    )


def test_an_org_admin_deletes_an_endpoint_through_the_service(tenant):
    endpoint = endpoint_for(tenant, "https://93.184.215.14/gone")
    response = _client(tenant.admin).post(f"{ENDPOINTS}{endpoint.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()
    event = AuditEvent.objects.get(action="webhook_endpoint.deleted")
    assert (event.actor, event.target_id, event.before["url"]) == (tenant.admin, str(endpoint.id), endpoint.url)


def test_another_organizations_endpoint_cannot_be_changed_or_deleted(tenant, other_tenant):
    theirs = endpoint_for(other_tenant, "https://93.184.215.14/globex")
    client = _client(tenant.admin)
    assert client.get(f"{ENDPOINTS}{theirs.id}/change/").status_code == 302  # not found: back to the list
    client.post(f"{ENDPOINTS}{theirs.id}/change/", _endpoint_form(url="https://93.184.215.14/stolen"))
    client.post(f"{ENDPOINTS}{theirs.id}/delete/", {"post": "yes"})
    theirs.refresh_from_db()
    assert theirs.url == "https://93.184.215.14/globex"
    assert not AuditEvent.objects.filter(action__in=["webhook_endpoint.updated", "webhook_endpoint.deleted"]).exists()


def test_finance_managers_and_system_admins_do_not_edit_endpoints(tenant, system_admin):
    endpoint = endpoint_for(tenant, "https://93.184.215.14/acme")
    finance = _client(tenant.finance)
    assert finance.get(f"{ENDPOINTS}add/").status_code == 403
    assert finance.post(f"{ENDPOINTS}{endpoint.id}/change/", _endpoint_form()).status_code == 403
    root = _client(system_admin)
    assert root.get(f"{ENDPOINTS}add/").status_code == 403
    assert root.get(f"{ENDPOINTS}{endpoint.id}/change/").status_code == 200  # read-only
    assert root.post(f"{ENDPOINTS}{endpoint.id}/delete/", {"post": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.filter(id=endpoint.id).exists()


def test_an_employee_never_reaches_the_endpoints(tenant):
    client = Client()
    client.force_login(tenant.employee)
    assert client.get(f"{ENDPOINTS}add/").status_code == 302  # to the back office's login
