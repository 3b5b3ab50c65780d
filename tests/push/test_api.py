"""/api/v1/push: the key browsers subscribe with and their subscriptions: answers, roles, bad input."""

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from rest_framework.test import APIClient

from apps.push.models import PushSubscription
from tests.push.conftest import b64url, browser_keys

pytestmark = pytest.mark.django_db

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"


def test_the_key_is_the_vapid_public_key_or_null_without_one(api, tenant, vapid, settings):
    point = vapid.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert api(tenant.employee).get("/api/v1/push/key").json() == {"public_key": b64url(point)}
    settings.PUSH_VAPID_PRIVATE_KEY = ""
    assert api(tenant.employee).get("/api/v1/push/key").json() == {"public_key": None}


@pytest.mark.parametrize("role", ["employee", "finance", "admin"])
def test_every_person_of_a_tenant_subscribes_their_browser(api, tenant, role):
    user = getattr(tenant, role)
    response = api(user).post("/api/v1/push/subscriptions", browser_keys().subscription(ENDPOINT), format="json")
    assert response.status_code == 201
    assert response.json()["endpoint"] == ENDPOINT
    assert PushSubscription.objects.get().user == user


def test_the_same_endpoint_again_is_updated_and_reaches_one_person(api, tenant):
    api(tenant.employee).post("/api/v1/push/subscriptions", browser_keys().subscription(ENDPOINT), format="json")
    renewed = browser_keys()
    api(tenant.other_employee).post("/api/v1/push/subscriptions", renewed.subscription(ENDPOINT), format="json")
    subscription = PushSubscription.objects.get()
    assert (subscription.user, subscription.p256dh) == (tenant.other_employee, renewed.p256dh)


def test_the_system_admin_and_anonymous_callers_subscribe_nothing(api, system_admin):
    body = browser_keys().subscription(ENDPOINT)
    assert api(system_admin).post("/api/v1/push/subscriptions", body, format="json").status_code == 403
    assert APIClient().post("/api/v1/push/subscriptions", body, format="json").status_code == 401
    assert APIClient().get("/api/v1/push/key").status_code == 401
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "https://169.254.169.254/latest/meta-data"}, "endpoint"),
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/abc"}, "endpoint"),
        ({"endpoint": "https://fcm.googleapis.com.evil.example/x"}, "endpoint"),
        ({"endpoint": "not a url"}, "endpoint"),
        ({"keys": {"p256dh": b64url(b"\x04" * 10), "auth": b64url(b"a" * 16)}}, "keys.p256dh"),
        ({"keys": {"p256dh": browser_keys().p256dh, "auth": "!!"}}, "keys.auth"),
        ({"keys": {"p256dh": browser_keys().p256dh, "auth": b64url(b"a" * 16), "extra": "x"}}, "keys"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_subscription_is_refused_by_name_and_nothing_is_kept(api, tenant, settings, change, field):
    settings.PUSH_ALLOW_PLAIN_HTTP = False
    body = {**browser_keys().subscription(ENDPOINT), **change}
    response = api(tenant.employee).post("/api/v1/push/subscriptions", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not PushSubscription.objects.exists()
