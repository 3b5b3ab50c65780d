"""Faults provoked for real: killed workers, a Redis that loses everything, PostgreSQL cutting
connections, and more spends than the workers can take. After each, every accepted spend is
final exactly once and the ledger verifies.

All transaction=True: other processes (workers, web servers) only see committed rows.
"""

import json
import signal
import urllib.error
import urllib.request
from email.message import Message

import pytest
from django.db import connection

from apps.budgets import totals as budget_totals
from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import idempotency, services
from tests.factories import PASSWORD
from tests.owner import owner_cursor
from tests.processes import PrivateRedis, process_env, start_beat, start_web, start_worker, stop, wait_until
from tests.spends import settle_all, spend_submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SPEND = {"amount": "10.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def assert_all_final_exactly_once(expected: int) -> None:
    transactions = Transaction.objects.filter(kind=Transaction.Kind.SPEND)
    assert transactions.count() == expected
    assert not transactions.filter(status=Transaction.Status.PENDING).exists()
    posted = transactions.filter(status=Transaction.Status.POSTED).count()
    assert Entry.objects.count() == 2 * posted
    assert sum(BudgetPeriod.objects.filter(department__parent=None).values_list("spent_minor", flat=True)) == sum(
        transactions.filter(status=Transaction.Status.POSTED).values_list("amount_minor", flat=True)
    )
    report = ledger_verify()
    assert report["ok"], report["problems"]


def _terminate_backend(pid: int) -> None:
    with owner_cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_worker_killed_mid_batch_settles_every_spend_exactly_once(tenant, tmp_path):
    spends = [spend_submit(tenant.employee, "1.00") for _ in range(1500)]
    env = process_env(connection_redis_url(), SETTLEMENT_BATCH_SIZE="100")
    worker = start_worker(env, queues="settlement")
    try:
        assert wait_until(lambda: Transaction.objects.filter(status=Transaction.Status.POSTED).exists(), timeout=60)
        worker.send_signal(signal.SIGKILL)  # between or, most likely, inside a 100-spend batch
        worker.wait()
        posted = Transaction.objects.filter(status=Transaction.Status.POSTED).count()
        assert 0 < posted < len(spends)
        assert Entry.objects.count() == 2 * posted  # a batch is all or nothing
    finally:
        stop(worker)
    restarted = start_worker(env, queues="settlement")
    try:
        services.settlement_sweep()  # what beat does every few seconds
        assert wait_until(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists(), 120)
    finally:
        stop(restarted)
    assert_all_final_exactly_once(len(spends))


def connection_redis_url() -> str:
    from django.conf import settings

    return settings.REDIS_URL


def _post(base_url: str, token: str, key: str, body: dict) -> tuple[int, Message, dict]:
    """Status, headers (looked up by any case: the server sends their names in lower case) and body."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/transactions",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def _token(base_url: str, email: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/token",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def test_redis_restarted_with_its_data_gone_loses_nothing(tenant, tmp_path):
    redis = PrivateRedis()
    redis.start()
    env = process_env(redis.url)
    web, base_url = start_web(env)
    processes = [web]
    try:
        token = _token(base_url, tenant.employee.email)
        accepted = {}
        for index in range(15):
            status, _, body = _post(base_url, token, f"before-{index}", SPEND)
            assert status == 202
            accepted[f"before-{index}"] = body["id"]

        redis.kill()  # queued wake-ups and rate-limit counters are gone with it
        for index in range(5):  # Redis down: the API still accepts, on the database alone
            status, _, body = _post(base_url, token, f"during-{index}", SPEND)
            assert status == 202, body
            accepted[f"during-{index}"] = body["id"]
        redis.start()  # back, empty

        processes += [start_worker(env), start_beat(env, tmp_path)]
        assert wait_until(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists(), 60)

        for key, transaction_id in accepted.items():  # client retries: the database still holds every key
            status, headers, body = _post(base_url, token, key, SPEND)
            assert status == 202 and body["id"] == transaction_id
            assert headers.get("Idempotent-Replayed") == "true"
        status, _, _ = _post(base_url, token, "before-0", {**SPEND, "amount": "11.00"})
        assert status == 422
    finally:
        for process in processes:
            stop(process)
        redis.kill()
    assert_all_final_exactly_once(len(accepted))


def test_connection_cut_during_ingestion_answers_503_and_writes_nothing(api, tenant, monkeypatch):

    real_fingerprint = idempotency.fingerprint

    def fingerprint_then_lose_the_database(request):
        _terminate_backend(connection.connection.info.backend_pid)
        return real_fingerprint(request)

    client = api(tenant.employee)
    monkeypatch.setattr(idempotency, "fingerprint", fingerprint_then_lose_the_database)
    response = client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="cut")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "unavailable"
    assert "Traceback" not in response.content.decode()
    monkeypatch.undo()
    connection.close()
    assert not Transaction.objects.exists()

    retry = client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="cut")
    assert retry.status_code == 202
    settle_all(tenant.organization)
    assert_all_final_exactly_once(1)


def test_a_kept_connection_the_server_dropped_fails_one_request_and_is_replaced(tenant):
    # A server keeping its connection between requests, as in production, where no health check
    # runs before a kept connection is reused.
    web, base_url = start_web(process_env(connection_redis_url(), TEST_CONN_MAX_AGE="60"), threads=1)
    try:
        token = _token(base_url, tenant.employee.email)
        assert _post(base_url, token, "before", SPEND)[0] == 202
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        status, headers, _ = _post(base_url, token, "cut", SPEND)
        assert status == 503
        assert headers["Retry-After"]
        assert _post(base_url, token, "cut", SPEND)[0] == 202
    finally:
        stop(web)
    settle_all(tenant.organization)
    assert_all_final_exactly_once(2)


def test_connection_cut_during_settlement_is_retried_by_the_worker(tenant, monkeypatch, settlement_worker):
    real_lock = budget_totals.lock_budget_periods
    cuts = []

    def lock_after_losing_the_database(**kwargs):
        if not cuts:
            cuts.append(connection.connection.info.backend_pid)
            _terminate_backend(cuts[0])
        return real_lock(**kwargs)

    monkeypatch.setattr(budget_totals, "lock_budget_periods", lock_after_losing_the_database)
    spends = [spend_submit(tenant.employee, "3.00") for _ in range(5)]
    assert wait_until(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists(), 60)
    assert cuts, "the fault was never injected"
    assert_all_final_exactly_once(len(spends))


def test_past_the_backlog_bound_the_api_answers_503_with_retry_after(api, tenant, settings):
    settings.INGEST_BACKLOG_LIMIT = 3
    client = api(tenant.employee)
    for index in range(3):
        assert (
            client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY=f"k{index}").status_code
            == 202
        )
    refused = client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    assert refused.status_code == 503
    assert int(refused["Retry-After"]) > 0
    assert "behind" in refused.json()["error"]["message"]
    assert Transaction.objects.count() == 3
    # A retry of a recorded spend replays even now: backpressure comes after the key's lookup.
    replay = client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="k0")
    assert replay.status_code in (200, 202)
    assert replay.json()["id"] == str(Transaction.objects.get(idempotency_key="k0").id)
    assert Transaction.objects.count() == 3
    settle_all(tenant.organization)
    assert client.post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="k3").status_code == 202
    settle_all(tenant.organization)
    assert_all_final_exactly_once(4)
