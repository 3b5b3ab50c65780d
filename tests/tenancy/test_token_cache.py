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


@pytest.fixture
def redis_reads(monkeypatch) -> list[str]:
    reads = []
    read = token_cache.redis_read

    def counted(key_hash):
        reads.append(key_hash)
        return read(key_hash)

    monkeypatch.setattr(token_cache, "redis_read", counted)
    return reads


def test_an_answer_is_kept_in_the_process_while_its_listener_hears_redis(tenant, listening, redis_reads):
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee
    assert selectors.user_for_token(key=key) == tenant.employee
    assert len(redis_reads) == 1


def test_a_process_that_may_have_missed_a_forgetting_reads_redis(tenant, listening, redis_reads, monkeypatch):
    monkeypatch.setattr(token_cache, "SILENCE_SECONDS", -1.0)  # its listener's last word is too old
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee
    assert selectors.user_for_token(key=key) == tenant.employee
    assert len(redis_reads) == 2


@pytest.mark.parametrize("ending", ["revoke the token", "deactivate the user"])
def test_a_token_ended_while_its_request_read_it_is_not_cached_alive(tenant, listening, monkeypatch, ending):
    """The request read the token just before it ended, and writes its copies after the forgetting:
    it is answered (it came first), but no copy outlives the forgetting, in Redis or in a process."""
    key = services.token_create(user=tenant.employee)
    read_from_database = selectors._live_token

    def read_then_end(**kwargs):
        token = read_from_database(**kwargs)
        if ending == "revoke the token":
            services.token_revoke(key=key)
        else:
            tenant.employee.is_active = False
            tenant.employee.save()
        return token

    monkeypatch.setattr(selectors, "_live_token", read_then_end)
    assert selectors.user_for_token(key=key) == tenant.employee
    monkeypatch.setattr(selectors, "_live_token", read_from_database)

    assert token_cache.redis_read(selectors.token_hash(key))[0] is None
    assert selectors.user_for_token(key=key) is None


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
    token_cache.forget([])
    answer = token_cache.Answer(tenant.employee, timezone.now() + timedelta(hours=1))
    token_cache.keep("a-token-hash", answer, read_generation)
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


def test_changing_a_user_without_tokens_leaves_kept_answers_alone(tenant, listening, redis_reads):
    key = services.token_create(user=tenant.employee)
    assert selectors.user_for_token(key=key) == tenant.employee

    tenant.finance.save()  # committed: its change announces a forgetting only for a user with tokens

    assert selectors.user_for_token(key=key) == tenant.employee
    assert len(redis_reads) == 1
