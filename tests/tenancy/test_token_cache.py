"""The process-local copy of token answers: kept while this process's listener hears Redis, and
dropped by every forgetting, one announced by another process included."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_redis import get_redis_connection

from apps.tenancy import selectors, services, token_cache
from tests.processes import ROOT, process_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listening():
    token_cache.generation()  # starts this process's listener
    assert wait_until(token_cache.listening, timeout=5)


class _CountingCache:
    def __init__(self, cache) -> None:
        self.cache, self.reads = cache, 0

    def get(self, key):
        self.reads += 1
        return self.cache.get(key)

    def set(self, *args, **kwargs):
        return self.cache.set(*args, **kwargs)


@pytest.fixture
def redis_copy(monkeypatch) -> _CountingCache:
    counting = _CountingCache(selectors.cache)
    monkeypatch.setattr(selectors, "cache", counting)
    return counting


def test_an_answer_is_kept_in_the_process_while_its_listener_hears_redis(tenant, listening, redis_copy):
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee
    assert selectors.user_for_token(key=key) == tenant.employee
    assert redis_copy.reads == 1


def test_a_process_that_may_have_missed_a_forgetting_reads_redis(tenant, listening, redis_copy, monkeypatch):
    monkeypatch.setattr(token_cache, "SILENCE_SECONDS", -1.0)  # its listener's last word is too old
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee
    assert selectors.user_for_token(key=key) == tenant.employee
    assert redis_copy.reads == 2


def test_a_lost_subscription_drops_the_copy_until_the_listener_is_back(tenant, listening):
    key = services.token_create(user=tenant.employee)
    selectors.user_for_token(key=key)

    get_redis_connection("default").client_kill_filter(_type="pubsub")

    assert wait_until(lambda: not token_cache.listening(), timeout=3)
    assert token_cache.lookup(selectors.token_hash(key), timezone.now()) is None
    assert wait_until(token_cache.listening, timeout=5)
    assert selectors.user_for_token(key=key) == tenant.employee


def test_an_answer_read_while_a_forgetting_came_in_is_not_kept(tenant, listening):
    read_generation = token_cache.generation()
    token_cache.announce_forget()
    token_cache.keep("a-token-hash", tenant.employee, timezone.now() + timedelta(hours=1), read_generation)
    assert token_cache.lookup("a-token-hash", timezone.now()) is None


def test_revoking_or_changing_the_user_ends_a_kept_answer_at_once(tenant, listening):
    revoked = services.token_create(user=tenant.employee)
    demoted = services.token_create(user=tenant.admin)
    assert selectors.user_for_token(key=revoked) == tenant.employee
    assert selectors.user_for_token(key=demoted).role == "org_admin"

    services.token_revoke(key=revoked)
    tenant.admin.is_active = False
    tenant.admin.save()

    assert selectors.user_for_token(key=revoked) is None
    assert selectors.user_for_token(key=demoted) is None


def test_a_revocation_in_another_process_ends_a_kept_answer(tenant, listening):
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee
    assert token_cache.lookup(selectors.token_hash(key), timezone.now()) is not None

    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from apps.tenancy import services; services.token_revoke(key={key!r})",
        ],
        cwd=ROOT,
        env=process_env(settings.CACHES["default"]["LOCATION"]),
        check=True,
        capture_output=True,
    )

    # Well within LOCAL_SECONDS: the announcement, not the copy's age, ended it.
    assert wait_until(lambda: selectors.user_for_token(key=key) is None, timeout=1.0)


def test_each_request_gets_user_objects_of_its_own(tenant, listening):
    key = services.token_create(user=tenant.employee)
    selectors.user_for_token(key=key)
    first, second = selectors.user_for_token(key=key), selectors.user_for_token(key=key)
    first.organization.name = "Renamed without saving"
    assert first is not second
    assert second.organization.name == tenant.organization.name
