"""Rate limits on login (per email, per address) and spend (per user), and lockout after failed logins.

Limits are lowered per test with the `settings` fixture; counters live in this run's Redis database.
"""

import pytest
from django.test import Client
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(email: str, password: str, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token", {"email": email, "password": password}, format="json"
    )


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_login_is_limited_per_email(tenant, settings):
    settings.RATE_LIMIT_LOGIN_PER_EMAIL = (3, 60)
    for attempt in range(3):
        assert _login(tenant.admin.email, PASSWORD, address=f"10.0.0.{attempt}").status_code == 200
    _assert_rate_limited(_login(tenant.admin.email.upper(), PASSWORD, address="10.0.0.9"))
    assert _login(tenant.finance.email, PASSWORD).status_code == 200


def test_login_is_limited_per_address(tenant, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = (3, 60)
    for user in (tenant.admin, tenant.finance, tenant.employee):
        assert _login(user.email, PASSWORD, address="10.0.0.7").status_code == 200
    _assert_rate_limited(_login(tenant.other_employee.email, PASSWORD, address="10.0.0.7"))
    assert _login(tenant.other_employee.email, PASSWORD, address="10.0.0.8").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(tenant, settings):
    settings.RATE_LIMIT_LOGIN_PER_IP = (1, 60)
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = APIClient(REMOTE_ADDR="172.18.0.5")

    def login(forwarded_for):
        return proxy.post(
            "/api/v1/auth/token",
            {"email": tenant.admin.email, "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    assert login("198.51.100.1").status_code == 200
    # A client cannot dodge the limit by sending its own X-Forwarded-For: nginx appends the real address.
    _assert_rate_limited(login("203.0.113.66, 198.51.100.1"))
    assert login("198.51.100.2").status_code == 200


def test_repeated_failures_lock_the_account_even_for_the_right_password(tenant, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    for _ in range(3):
        response = _login(tenant.admin.email, "wrong-password")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
    locked = _login(tenant.admin.email, PASSWORD)
    _assert_rate_limited(locked)
    assert 590 <= int(locked["Retry-After"]) <= 600
    assert _login(tenant.finance.email, PASSWORD).status_code == 200


def test_lockout_ends_after_its_time(tenant, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    for _ in range(2):
        _login(tenant.admin.email, "wrong-password")
    _assert_rate_limited(_login(tenant.admin.email, PASSWORD))
    # Expire the lock in Redis as time would: the next right password gets in again.
    redis = get_redis_connection("default")
    for key in redis.scan_iter("ledgerx:login:locked:*"):
        redis.expire(key, 0)
    assert _login(tenant.admin.email, PASSWORD).status_code == 200


def test_a_success_resets_the_failure_count(tenant, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    for _ in range(2):
        _login(tenant.admin.email, "wrong-password")
    assert _login(tenant.admin.email, PASSWORD).status_code == 200
    for _ in range(2):
        _login(tenant.admin.email, "wrong-password")
    assert _login(tenant.admin.email, PASSWORD).status_code == 200


def test_answers_do_not_reveal_whether_an_account_exists(tenant, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    answers = {}
    for email in (tenant.admin.email, "nobody@example.com"):
        steps = [_login(email, "wrong-password") for _ in range(3)]
        answers[email] = [(r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) for r in steps]
    assert answers[tenant.admin.email] == answers["nobody@example.com"]
    assert [status for status, _, _ in answers["nobody@example.com"]] == [401, 401, 429]


def test_spend_submission_is_limited_per_user(tenant, api, settings):
    settings.RATE_LIMIT_SPEND_PER_USER = (2, 60)
    body = {"amount": "1.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
    client = api(tenant.employee)
    for key in ("k1", "k2"):
        assert client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 202
    _assert_rate_limited(client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k3"))
    other = api(tenant.other_employee).post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    assert other.status_code == 202


def test_the_lockout_guards_the_admin_login_form_too(system_admin, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = Client()
    for _ in range(2):
        response = client.post("/admin/login/", {"username": system_admin.email, "password": "wrong-password"})
        assert response.status_code == 200  # the form again, with an error
    refused = client.post("/admin/login/", {"username": system_admin.email, "password": PASSWORD})
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session
    _assert_rate_limited(_login(system_admin.email, PASSWORD))


def test_a_window_left_without_expiry_is_given_one_when_it_refuses():
    from ledgerx.errors import RateLimited
    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

    client = get_redis_connection("default")
    hit = Hit("spend", "a-user", Limit(5, 60))
    client.set(hit.key, 5)  # a counter without expiry, as an older release could leave one
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(hit)
    assert 0 < client.ttl(hit.key) <= 60
    assert refused.value.retry_after == 60


def test_a_window_opens_with_its_expiry_and_refuses_past_the_limit_until_it_ends():
    from ledgerx.errors import RateLimited
    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

    client = get_redis_connection("default")
    hit = Hit("login-ip", "192.0.2.7", Limit(2, 30))
    rate_limit_hit(hit)
    assert 0 < client.ttl(hit.key) <= 30
    rate_limit_hit(hit)
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(hit)
    assert 0 < refused.value.retry_after <= 30
    assert "192.0.2.7" not in hit.key


def test_a_large_limit_is_counted_from_a_lease_without_asking_redis_each_time():
    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

    client = get_redis_connection("default")
    hit = Hit("spend", "a-busy-user", Limit(3000, 60))
    assert hit.limit.lease_size == 30
    rate_limit_hit(hit)
    assert int(client.get(hit.key)) == 30  # leased: this hit and 29 more
    for _ in range(29):
        rate_limit_hit(hit)
    assert int(client.get(hit.key)) == 30  # counted here, not in Redis
    rate_limit_hit(hit)
    assert int(client.get(hit.key)) == 60


def test_a_lease_gets_only_what_other_processes_left_and_then_refuses():
    from ledgerx.errors import RateLimited
    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

    client = get_redis_connection("default")
    hit = Hit("spend", "a-user", Limit(500, 60))
    client.set(hit.key, 499, ex=60)  # other processes leased all but one
    rate_limit_hit(hit)
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(hit)
    assert 0 < refused.value.retry_after <= 60


def test_a_lease_ends_with_its_window():
    import time

    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

    client = get_redis_connection("default")
    hit = Hit("spend", "a-user", Limit(1000, 1))
    rate_limit_hit(hit)  # leases 10 in a window of one second, and keeps 9
    time.sleep(1.1)
    rate_limit_hit(hit)  # the 9 ended with their window: a new lease in a new one
    assert int(client.get(hit.key)) == 10


def test_threads_sharing_a_lease_never_pass_the_limit():
    from ledgerx.errors import RateLimited
    from ledgerx.ratelimit import Hit, Limit, rate_limit_hit
    from tests.conftest import run_in_threads

    hit = Hit("spend", "a-crowd", Limit(300, 60))
    threads, hits_each = 8, 50

    def hit_many(index):
        allowed = 0
        for _ in range(hits_each):
            try:
                rate_limit_hit(hit)
                allowed += 1
            except RateLimited:
                pass
        return allowed

    allowed = sum(run_in_threads(threads, hit_many))
    # Never more than the limit; fewer only by leftovers of the last leases, when no thread came after them.
    assert 300 - threads * (hit.limit.lease_size - 1) <= allowed <= 300
