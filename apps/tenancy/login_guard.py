"""Login throttling and lockout, keyed by the email as typed (normalized) and by the caller's address.

Counting by email whether or not such an account exists means a locked or throttled answer is the
same for every email, so the answers never reveal which accounts exist.
"""

import hashlib
import logging

from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from ledgerx.errors import RateLimited
from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

logger = logging.getLogger(__name__)

LOCKED_MESSAGE = "Too many sign-in attempts; try again later."


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:40]
    return f"ledgerx:login:failures:{digest}", f"ledgerx:login:locked:{digest}"


def login_rate_check(*, email: str, client_ip: str) -> None:
    """Raise RateLimited (429) if this email or this address has asked to log in too often lately."""
    rate_limit_hit(Hit("login-email", email.strip().lower(), Limit(*settings.RATE_LIMIT_LOGIN_PER_EMAIL)))
    rate_limit_hit(Hit("login-ip", client_ip, Limit(*settings.RATE_LIMIT_LOGIN_PER_IP)))


def _locked_for(email: str) -> int:
    """Seconds this email stays locked out; 0 when it is not."""
    _, locked_key = _keys(email)
    try:
        return max(get_redis_connection("default").ttl(locked_key), 0)
    except RedisError as error:
        logger.warning("login lockout not checked, Redis unavailable: %s", error)
        return 0


def login_is_locked(*, email: str) -> bool:
    return _locked_for(email) > 0


def login_lockout_check(*, email: str) -> None:
    """Raise RateLimited (429) while this email is locked out after repeated failures."""
    locked_for = _locked_for(email)
    if locked_for:
        raise RateLimited(LOCKED_MESSAGE, retry_after=locked_for)


def login_failure_record(*, email: str) -> None:
    """Count a failed login; the LOGIN_LOCKOUT_FAILURES-th in a row locks the email for LOGIN_LOCKOUT_SECONDS."""
    failures_key, locked_key = _keys(email)
    seconds = settings.LOGIN_LOCKOUT_SECONDS
    try:
        client = get_redis_connection("default")
        pipeline = client.pipeline()
        pipeline.incr(failures_key)
        pipeline.expire(failures_key, seconds)
        failures, _ = pipeline.execute()
        if failures >= settings.LOGIN_LOCKOUT_FAILURES:
            client.set(locked_key, "1", ex=seconds)
            client.delete(failures_key)
            logger.warning("login locked for %ss after %s failures", seconds, failures)
    except RedisError as error:
        logger.warning("login failure not counted, Redis unavailable: %s", error)


def login_failures_clear(*, email: str) -> None:
    failures_key, _ = _keys(email)
    try:
        get_redis_connection("default").delete(failures_key)
    except RedisError as error:
        logger.warning("login failures not cleared, Redis unavailable: %s", error)
