"""The installable app's files as the server answers them: the manifest, the service worker at the root,
the offline page; open to anyone, a session waiting for its second factor included."""

import json

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from PIL import Image

from tests.factories import PASSWORD, login_verified

pytestmark = pytest.mark.django_db

APP_FILES = ["/manifest.webmanifest", "/sw.js", "/offline/"]


def test_the_manifest_names_the_app_its_start_its_scope_and_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert (manifest["name"], manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "LedgerX",
        "/?source=app",
        "/",
        "standalone",
    )
    assert [(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]] == [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ]
    for icon in manifest["icons"]:
        with Image.open(finders.find(icon["src"].removeprefix(settings.STATIC_URL))) as image:
            assert (image.format, f"{image.width}x{image.height}") == ("PNG", icon["sizes"])


def test_the_service_worker_is_served_from_the_root_uncached_and_keeps_the_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    script = response.content.decode()
    assert 'importScripts("/static/vendor/idb/umd.js", "/static/web/outbox.js")' in script
    assert '"/static/web/employee.js"' in script and '"/offline/"' in script
    assert 'addEventListener("push"' in script and 'addEventListener("sync"' in script


@pytest.mark.parametrize(("role", "path"), [("employee", "/"), ("finance", "/approvals/")])
def test_the_employee_and_approvals_pages_offer_notifications(tenant, role, path):
    client = Client()
    login_verified(client, getattr(tenant, role))
    page = client.get(path).content.decode()
    assert (
        'id="push-offer" data-key-api="/api/v1/push/key" data-subscribe-api="/api/v1/push/subscriptions" hidden' in page
    )


def test_the_offline_page_says_what_works_without_a_connection(client):
    response = client.get("/offline/")
    assert response.status_code == 200
    assert "You are offline" in response.content.decode()


@pytest.mark.parametrize("path", APP_FILES)
def test_a_session_waiting_for_its_second_factor_still_gets_the_app_files(tenant, path):
    client = Client()
    assert client.post("/login/", {"username": tenant.finance.email, "password": PASSWORD}).status_code == 302
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", APP_FILES)
def test_the_app_files_take_no_writes(client, path):
    assert client.post(path).status_code == 405


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    page = client.get("/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-service-worker="/sw.js"' in page
