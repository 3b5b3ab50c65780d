"""The TechCorp walk-through of the money path, over HTTP, with a real Celery worker."""

import time

import pytest

from apps.ledger.selectors import ledger_verify
from apps.system.demo import DEMO_PASSWORD, seed_demo
from apps.tenancy.models import User
from tests.factories import otp_fields


def _login(client, email):
    body = {"email": email, "password": DEMO_PASSWORD, **otp_fields(User.objects.get(email=email))}
    response = client.post("/api/v1/auth/token", body, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def _wait_final(client, transaction_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/transactions/{transaction_id}").json()
        if body["status"] != "pending":
            return body
        time.sleep(0.05)
    raise AssertionError(f"transaction {transaction_id} still pending after {timeout}s")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the worker sees only committed rows
def test_techcorp_walkthrough(settlement_worker):
    from rest_framework.test import APIClient

    seed_demo(history=False)
    alice = _login(APIClient(), "alice@techcorp.com")
    bob = _login(APIClient(), "bob@techcorp.com")
    finance = _login(APIClient(), "finance@techcorp.com")

    spend = alice.post(
        "/api/v1/transactions",
        {"amount": "6000.00", "currency": "USD", "merchant": "Dell", "category": "equipment"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="alice-laptops-1",
    )
    assert spend.status_code == 202, spend.content
    assert spend.json()["status"] == "pending"
    assert spend["Location"].endswith(spend.json()["id"])
    assert _wait_final(alice, spend.json()["id"])["status"] == "posted"

    big = bob.post(
        "/api/v1/transactions",
        {"amount": "48000.00", "currency": "USD", "merchant": "Apple", "category": "equipment"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="bob-big-1",
    )
    assert big.status_code == 202
    final = _wait_final(bob, big.json()["id"])
    assert final["status"] == "rejected"
    assert final["rejection_reason"] == (
        "Department 'Engineering' budget exceeded. Limit: $50,000, "
        "Current (spent plus held): $6,000, Requested: $48,000"
    )

    budgets = {d["name"]: d["budget"] for d in finance.get("/api/v1/departments").json()}
    assert budgets["Engineering"]["spent"] == "6000.00"
    assert budgets["Engineering"]["available"] == "44000.00"
    assert budgets["Sales"]["spent"] == "0.00"

    entries = finance.get(f"/api/v1/ledger/entries?transaction={spend.json()['id']}").json()["results"]
    assert sorted(e["amount"] for e in entries) == ["-6000.00", "6000.00"]

    verify = finance.get("/api/v1/ledger/verify").json()
    assert verify["ok"], verify["problems"]
    assert ledger_verify()["ok"]
