"""Web Push end to end: a browser's subscription through the API, a decision on a spend, and the notice
arriving at a real push service on 127.0.0.1, encrypted to the browser's keys and signed with the
server's VAPID key: decrypted and checked here as the browser and the push service would."""

import base64
import json
from datetime import timedelta

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.utils import timezone

from apps.approvals.services import approval_policy_create
from apps.ledger.models import Transaction
from apps.push.models import PushSubscription
from apps.spending import services as spending_services
from apps.spending.notices import decision_notices_send
from tests.push.conftest import b64url, browser_keys
from tests.spends import settle_all, spend_submit

# Settlement takes its lock outside any transaction, and the worker sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _subscribe(api, user, endpoint: str):
    keys = browser_keys()
    response = api(user).post("/api/v1/push/subscriptions", keys.subscription(endpoint), format="json")
    assert response.status_code == 201, response.content
    return keys


def _opened(received, keys, vapid_key: ec.EllipticCurvePrivateKey, audience: str) -> dict:
    """What the push service checks (the VAPID signature, RFC 8292) and what the browser reads (RFC 8291)."""
    headers = {name.lower(): value for name, value in received.headers.items()}
    scheme, _, params = headers["authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    server_key = vapid_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert (scheme, fields["k"]) == ("vapid", b64url(server_key))
    header, claims, signature = fields["t"].split(".")
    raw = _unb64url(signature)
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    vapid_key.public_key().verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(_unb64url(claims))["aud"] == audience
    assert headers["content-encoding"] == "aes128gcm"
    plain = http_ece.decrypt(received.body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm")
    return json.loads(plain)


def test_a_posted_spend_reaches_its_spenders_browser(api, tenant, vapid, push_service, settlement_worker):
    keys = _subscribe(api, tenant.employee, f"{push_service.url}/alice-phone")
    spend_submit(tenant.employee, "84.50", merchant="Hilton", category="travel")

    [received] = push_service.wait_for(1)  # settled, then told, by the real worker
    notice = _opened(received, keys, vapid, f"http://127.0.0.1:{push_service.port}")
    spend = Transaction.objects.get()
    assert notice == {
        "title": "Spend posted",
        "body": "$84.50 at Hilton is posted.",
        "url": "/",
        "tag": f"spend-{spend.id}",
    }


def test_a_refused_spend_tells_its_reason(api, tenant, vapid, push_service):
    keys = _subscribe(api, tenant.employee, f"{push_service.url}/phone")
    spend_submit(tenant.employee, "60000.00", merchant="Apple", category="equipment")
    settle_all(tenant.organization)
    spend = Transaction.objects.get()

    assert decision_notices_send(transaction_ids=[spend.id]) == 1
    notice = _opened(push_service.requests[0], keys, vapid, f"http://127.0.0.1:{push_service.port}")
    assert notice["title"] == "Spend refused"
    assert notice["body"] == f"$60,000 at Apple: {spend.rejection_reason}"
    assert "budget exceeded" in notice["body"]


def test_approval_needed_goes_to_who_signs_the_step_not_to_the_spender(api, tenant, vapid, push_service):
    approval_policy_create(
        organization=tenant.organization, name="Big", min_amount_minor=100_000, levels=["finance_manager"]
    )
    finance_keys = _subscribe(api, tenant.finance, f"{push_service.url}/finance-phone")
    _subscribe(api, tenant.employee, f"{push_service.url}/employee-phone")
    spend_submit(tenant.employee, "2500.00", merchant="Dell", category="equipment")
    settle_all(tenant.organization)
    spend = Transaction.objects.get(status=Transaction.Status.AWAITING_APPROVAL)

    assert decision_notices_send(transaction_ids=[spend.id]) == 1
    [received] = push_service.requests
    notice = _opened(received, finance_keys, vapid, f"http://127.0.0.1:{push_service.port}")
    assert notice == {
        "title": "Approval needed",
        "body": f"$2,500 at Dell, by {tenant.employee.email}.",
        "url": "/approvals/",
        "tag": f"approval-{spend.id}",
    }


def test_a_subscription_its_push_service_calls_gone_is_forgotten_and_others_still_get_theirs(
    api, tenant, vapid, push_service
):
    _subscribe(api, tenant.employee, f"{push_service.url}/old-phone")
    _subscribe(api, tenant.employee, f"{push_service.url}/new-phone")
    spend_submit(tenant.employee, "12.00", merchant="Cafe", category="meals")
    settle_all(tenant.organization)
    push_service.script = [410, 201]

    assert decision_notices_send(transaction_ids=[Transaction.objects.get().id]) == 1
    assert len(push_service.requests) == 2
    assert PushSubscription.objects.count() == 1


def test_without_a_vapid_key_nothing_is_sent(api, tenant, push_service, settings):
    settings.PUSH_VAPID_PRIVATE_KEY = ""
    _subscribe(api, tenant.employee, f"{push_service.url}/phone")
    spend_submit(tenant.employee, "12.00", merchant="Cafe", category="meals")
    settle_all(tenant.organization)
    assert decision_notices_send(transaction_ids=[Transaction.objects.get().id]) == 0
    assert push_service.requests == []


def test_an_approval_that_expires_tells_its_spender_it_was_refused(api, tenant, vapid, push_service, settlement_worker):
    approval_policy_create(
        organization=tenant.organization, name="Big", min_amount_minor=100_000, levels=["finance_manager"]
    )
    keys = _subscribe(api, tenant.employee, f"{push_service.url}/phone")
    spend_submit(tenant.employee, "2500.00", merchant="Dell", category="equipment")
    settle_all(tenant.organization)
    spend = Transaction.objects.get(status=Transaction.Status.AWAITING_APPROVAL)

    later = timezone.now() + timedelta(hours=settings.APPROVAL_EXPIRY_HOURS + 1)
    assert spending_services.approval_expire_due(now=later) == 1

    [received] = push_service.wait_for(1)  # told by the real worker; nobody subscribed signs the step
    notice = _opened(received, keys, vapid, f"http://127.0.0.1:{push_service.port}")
    assert (notice["title"], notice["tag"]) == ("Spend refused", f"spend-{spend.id}")
    assert "Approval expired" in notice["body"]
