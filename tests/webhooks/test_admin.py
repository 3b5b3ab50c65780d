"""The back office: endpoints and the delivery log, scoped to the staff user's organization."""

import pytest
from django.test import Client

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
