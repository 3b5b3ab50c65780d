"""The sign-in throttle: asked before any password is hashed, so a refused attempt costs one query.

Failed sign-ins are counted three ways, each within LOGIN_THROTTLE_WINDOW_SECONDS of its first:
- per (account, address) pair: past LOGIN_THROTTLE_PAIR_FREE failures, that pair waits 1, 2, 4 ...
  seconds (at most LOGIN_THROTTLE_MAX_BLOCK_SECONDS) before its next attempt;
- per address, whatever the account: past LOGIN_THROTTLE_ADDRESS_FREE failures, the same growing wait
  for the address, so one address spraying emails is slowed to a trickle;
- per account, from every address: past LOGIN_THROTTLE_ACCOUNT_FREE failures, attempts on the account
  are spaced by a growing wait of at most LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS. It only slows, never
  blocks, and not at all from an address the account signed in from within LOGIN_KNOWN_ADDRESS_DAYS:
  nobody can lock the real owner out from their usual place.

The counts live in PostgreSQL (LoginThrottle), so flushing or losing Redis resets nothing, and a
throttle that cannot be read refuses the attempt (fails closed) rather than let it through.
Keys are counted whether or not the account exists, so answers never reveal which accounts do.
"""

import hashlib
import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledgerx.errors import RateLimited
from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

from .models import LoginThrottle

logger = logging.getLogger(__name__)

THROTTLED_MESSAGE = "Too many sign-in attempts; try again in {seconds} s."
UNAVAILABLE_RETRY_SECONDS = 5


def _key(kind: str, *parts: str) -> str:
    return f"{kind}:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:64]


def _keys(email: str, client_ip: str) -> dict[str, str]:
    email = email.strip().lower()
    return {
        "pair": _key("pair", email, client_ip),
        "address": _key("address", client_ip),
        "account": _key("account", email),
        "known": _key("known", email, client_ip),
    }


def login_throttle_wait(*, email: str, client_ip: str) -> int:
    """Seconds before this address may try this account again; 0 when it may now."""
    keys = _keys(email, client_ip)
    now = timezone.now()
    try:
        rows = {row.key: row for row in LoginThrottle.objects.filter(key__in=keys.values())}
    except DatabaseError as error:
        logger.warning("login throttle unreadable, refusing the attempt: %s", error)
        return UNAVAILABLE_RETRY_SECONDS
    known = rows.get(keys["known"])
    from_known_address = known is not None and known.window_started_at > now - timedelta(
        days=settings.LOGIN_KNOWN_ADDRESS_DAYS
    )
    kinds = ("pair", "address") if from_known_address else ("pair", "address", "account")
    until: list[datetime] = [
        rows[keys[kind]].blocked_until
        for kind in kinds
        if keys[kind] in rows and rows[keys[kind]].blocked_until is not None
    ]
    latest = max(until, default=now)
    return math.ceil((latest - now).total_seconds()) if latest > now else 0


def login_throttle_check(*, email: str, client_ip: str) -> None:
    """Raise RateLimited (429, with Retry-After) while this address must wait before trying this account,
    or has asked for more than RATE_LIMIT_LOGIN_PER_IP sign-ins a minute, failed or not."""
    rate_limit_hit(Hit("login-ip", client_ip, Limit(*settings.RATE_LIMIT_LOGIN_PER_IP)))
    wait = login_throttle_wait(email=email, client_ip=client_ip)
    if wait:
        raise RateLimited(THROTTLED_MESSAGE.format(seconds=wait), retry_after=wait)


# A window past its length starts again at one. clock_timestamp(), not now(): times run from the
# failure, not from the start of its transaction.
_COUNT_FAILURE = """
INSERT INTO tenancy_loginthrottle AS t (key, failures, window_started_at, blocked_until)
SELECT key, 1, clock_timestamp(), NULL FROM unnest(%(keys)s::text[]) AS key
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.window_started_at < clock_timestamp() - %(window)s * interval '1 second' THEN 1
                    ELSE t.failures + 1 END,
    window_started_at = CASE WHEN t.window_started_at < clock_timestamp() - %(window)s * interval '1 second'
                             THEN clock_timestamp() ELSE t.window_started_at END
RETURNING t.key, t.failures
"""
_WAIT = "UPDATE tenancy_loginthrottle SET blocked_until = clock_timestamp() + %s * interval '1 second' WHERE key = %s"


def login_failure_record(*, email: str, client_ip: str) -> None:
    """Count a failed sign-in against the pair, the address and the account; past its free failures a
    key waits 2^(failures - free - 1) seconds, at most its cap."""
    keys = _keys(email, client_ip)
    rules = {
        keys["pair"]: (settings.LOGIN_THROTTLE_PAIR_FREE, settings.LOGIN_THROTTLE_MAX_BLOCK_SECONDS),
        keys["address"]: (settings.LOGIN_THROTTLE_ADDRESS_FREE, settings.LOGIN_THROTTLE_MAX_BLOCK_SECONDS),
        keys["account"]: (settings.LOGIN_THROTTLE_ACCOUNT_FREE, settings.LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_COUNT_FAILURE, {"keys": list(rules), "window": settings.LOGIN_THROTTLE_WINDOW_SECONDS})
        waits = [
            (min(cap, 2 ** min(failures - free - 1, 30)), key)
            for key, failures in cursor.fetchall()
            for free, cap in [rules[key]]
            if failures > free
        ]
        if waits:
            cursor.executemany(_WAIT, waits)


def login_success_record(*, email: str, client_ip: str) -> None:
    """The pair's failures are forgiven, and the address becomes one the account signs in from."""
    keys = _keys(email, client_ip)
    LoginThrottle.objects.filter(key=keys["pair"]).delete()
    LoginThrottle.objects.update_or_create(
        key=keys["known"],
        defaults={"window_started_at": timezone.now(), "failures": 0, "blocked_until": None},
    )


def login_throttle_prune() -> int:
    """Forget counts whose window and wait are over, and addresses not signed in from for too long."""
    now = timezone.now()
    window_over = now - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)
    stale_counts = LoginThrottle.objects.exclude(key__startswith="known:").filter(window_started_at__lt=window_over)
    pruned, _ = stale_counts.exclude(blocked_until__gt=now).delete()
    stale_known, _ = LoginThrottle.objects.filter(
        key__startswith="known:", window_started_at__lt=now - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    ).delete()
    return pruned + stale_known
