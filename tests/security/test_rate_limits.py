"""Rate limits on sign-in and spend, and the sign-in throttle (apps/tenancy/login_guard.py).

Limits are lowered per test with the `settings` fixture; request counters live in this run's Redis
database, failure counts in PostgreSQL.
"""

import math
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from apps.tenancy.models import LoginThrottle, User
from tests.factories import PASSWORD, otp_fields

pytestmark = pytest.mark.django_db


def _login(email: str, password: str, address: str = "10.0.0.1"):
    """A token request, with the second factor that the user, if there is one, owes after a right password."""
    user = User.objects.filter(email=email).first()
    body = {"email": email, "password": password, **(otp_fields(user) if user else {})}
    return APIClient(REMOTE_ADDR=address).post("/api/v1/auth/token", body, format="json")


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert 1 <= int(response["Retry-After"]) <= 3600


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
            {"email": tenant.admin.email, "password": PASSWORD, **otp_fields(tenant.admin)},
            format="json",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    assert login("198.51.100.1").status_code == 200
    # A client cannot dodge the limit by sending its own X-Forwarded-For: nginx appends the real address.
    _assert_rate_limited(login("203.0.113.66, 198.51.100.1"))
    assert login("198.51.100.2").status_code == 200


def test_two_hundred_wrong_passwords_from_one_address_never_lock_the_owner_out_from_another(tenant):
    answers = [_login(tenant.admin.email, "wrong-password", address="203.0.113.9").status_code for _ in range(200)]
    assert answers[:5] == [401] * 5  # LOGIN_THROTTLE_PAIR_FREE
    assert answers.count(429) >= 190  # then the pair waits, answered before any hashing
    assert _login(tenant.admin.email, PASSWORD, address="198.51.100.20").status_code == 200


def test_a_throttled_pair_waits_with_a_growing_delay_then_gets_in(tenant):
    for _ in range(5):
        assert _login(tenant.admin.email, "wrong-password").status_code == 401
    assert _login(tenant.admin.email, "wrong-password").status_code == 401  # the 6th is checked, then waits
    refused = _login(tenant.admin.email, PASSWORD)
    _assert_rate_limited(refused)
    assert int(refused["Retry-After"]) == 1
    LoginThrottle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))  # time passes
    assert _login(tenant.admin.email, "wrong-password").status_code == 401
    assert int(_login(tenant.admin.email, PASSWORD)["Retry-After"]) == 2  # the wait doubles
    LoginThrottle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))
    assert _login(tenant.admin.email, PASSWORD).status_code == 200


@pytest.mark.django_db(transaction=True)  # the spraying threads commit on their own connections
def test_one_address_spraying_emails_is_slowed_while_other_users_are_served(tenant, api):
    """Four threads spray random emails from one address; another user's GET /me keeps being served."""
    me = api(tenant.finance)
    stop = threading.Event()
    spray: list[int] = []

    def sprayer(index: int) -> None:
        try:
            attempt = 0
            while not stop.is_set():
                attempt += 1
                spray.append(_login(f"guess-{index}-{attempt}@example.com", "x", address="203.0.113.50").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sprayer, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    served = []
    started = time.monotonic()
    # Three seconds at least, and on a slow machine until the address has sprayed well past its free
    # failures (bounded), so that the test measures the throttle rather than the machine's speed.
    while time.monotonic() - started < 3 or (len(spray) < 60 and time.monotonic() - started < 30):
        served.append(me.get("/api/v1/me").status_code)
        # Another user at a person's pace: a loop without pause would hold the GIL from the sprayers, which
        # then wait on it after each of their queries (seconds a sign-in) and test nothing.
        time.sleep(0.01)
    stop.set()
    elapsed = time.monotonic() - started
    for thread in threads:
        thread.join()
    assert set(served) == {200} and len(served) > 10
    # LOGIN_THROTTLE_ADDRESS_FREE failures are checked; past them the address waits 1, 2, 4 ... s, so
    # the waits end 1, 3, 7 ... s after the bound. Each time the count reaches a bound or a wait ends,
    # every thread may be past the check at once (check, then count): at most one per thread for the
    # first bound, for each wait that ended within the spraying, and for one still ending as it stops.
    # The rest are 429.
    waits_ended = int(math.log2(elapsed + 1))
    checked_at_most = 20 + len(threads) * (2 + waits_ended)
    assert spray.count(401) <= checked_at_most
    assert spray.count(429) >= len(spray) - checked_at_most and spray.count(429) > 0


def test_an_account_attacked_from_many_addresses_is_only_slowed_and_not_from_its_usual_place(tenant, settings):
    settings.LOGIN_THROTTLE_ACCOUNT_FREE = 3
    assert _login(tenant.admin.email, PASSWORD, address="198.51.100.1").status_code == 200  # the usual place
    for attempt in range(4):
        assert _login(tenant.admin.email, "wrong-password", address=f"203.0.113.{attempt}").status_code == 401
    slowed = _login(tenant.admin.email, PASSWORD, address="192.0.2.77")
    _assert_rate_limited(slowed)
    assert int(slowed["Retry-After"]) <= settings.LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS
    assert _login(tenant.admin.email, PASSWORD, address="198.51.100.1").status_code == 200


def test_the_throttle_survives_redis_being_flushed_and_down(tenant, settings):
    for _ in range(6):
        _login(tenant.admin.email, "wrong-password")
    get_redis_connection("default").flushdb()
    _assert_rate_limited(_login(tenant.admin.email, PASSWORD))
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    _assert_rate_limited(_login(tenant.admin.email, PASSWORD))


def test_a_success_forgives_the_pairs_failures(tenant):
    for _ in range(4):
        _login(tenant.admin.email, "wrong-password")
    assert _login(tenant.admin.email, PASSWORD).status_code == 200
    for _ in range(4):
        assert _login(tenant.admin.email, "wrong-password").status_code == 401
    assert _login(tenant.admin.email, PASSWORD).status_code == 200


def test_answers_do_not_reveal_whether_an_account_exists(tenant):
    answers = {}
    for email in (tenant.admin.email, "nobody@example.com"):
        steps = [_login(email, "wrong-password") for _ in range(7)]
        answers[email] = [(r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]) for r in steps]
    assert answers[tenant.admin.email] == answers["nobody@example.com"]
    assert [status for status, _, _ in answers["nobody@example.com"]] == [401] * 6 + [429]


def test_spend_submission_is_limited_per_user(tenant, api, settings):
    settings.RATE_LIMIT_SPEND_PER_USER = (2, 60)
    body = {"amount": "1.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
    client = api(tenant.employee)
    for key in ("k1", "k2"):
        assert client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 202
    _assert_rate_limited(client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k3"))
    other = api(tenant.other_employee).post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k3")
    assert other.status_code == 202


def test_the_throttle_guards_the_admin_and_page_sign_in_forms_too(system_admin):
    client = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(6):
        response = client.post("/admin/login/", {"username": system_admin.email, "password": "wrong-password"})
        assert response.status_code == 200  # the form again, with an error
    refused = client.post("/admin/login/", {"username": system_admin.email, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    page = client.post("/login/", {"username": system_admin.email, "password": PASSWORD})
    assert page.status_code == 429 and "Too many sign-in attempts" in page.content.decode()
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


def test_the_prune_forgets_finished_windows_and_old_addresses_only(tenant):
    from apps.tenancy.login_guard import login_throttle_prune

    LoginThrottle.objects.all().delete()
    for _ in range(6):
        _login(tenant.admin.email, "wrong-password")
    assert _login(tenant.finance.email, PASSWORD).status_code == 200
    assert login_throttle_prune() == 0  # windows running, the pair still waiting, the address fresh
    long_ago = timezone.now() - timedelta(days=60)
    LoginThrottle.objects.update(window_started_at=long_ago, blocked_until=long_ago)
    kept = LoginThrottle.objects.count()
    assert kept == 4  # the pair, the address and the account of the failures, and the finance manager's address
    assert login_throttle_prune() == kept
    assert not LoginThrottle.objects.exists()
