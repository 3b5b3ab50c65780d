"""Rate limits as fixed-window counters in Redis, spent from quota each process leases.

Counters are shared by every web process, but a process does not ask Redis about every hit: it
leases a share of the window's quota (a hundredth of the limit, between 1 and LEASE_MAX hits) and
counts hits against it locally until the lease is spent or the window ends. A limit of 3,000
spends a minute costs one Redis round trip per 30 spends instead of one per spend (a round trip
with its script: about 0.2 ms of CPU, client and server, measured on the 2-core machine).
The price: hits leased by one process are not available to another before the window ends, so a
caller can be refused up to (processes - 1) x (lease - 1) hits early, never late. Limits under 200
lease one hit at a time, which is exact.

If Redis cannot be reached the limit is not enforced (logged): refusing every login and spend
because the counter store is down would be worse.
"""

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from .errors import RateLimited

logger = logging.getLogger(__name__)

LEASE_SHARE = 100
LEASE_MAX = 50
# Expired leases are dropped once a process holds more than this many (one per caller it served).
LEASES_KEPT = 1024


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @property
    def lease_size(self) -> int:
        return max(1, min(LEASE_MAX, self.count // LEASE_SHARE))


@dataclass(frozen=True)
class Hit:
    """One hit of `identity` against its `limit` in `scope`."""

    scope: str
    identity: str
    limit: Limit

    @property
    def key(self) -> str:
        # Hashed so that emails and addresses never sit in Redis in the clear.
        return f"ledgerx:rl:{self.scope}:{hashlib.sha256(self.identity.encode()).hexdigest()[:40]}"


# Leases ARGV[3] hits from KEYS[1]'s window of ARGV[2] seconds, limited to ARGV[1] hits. Answers
# how many were granted (0 once the window is used up) and the milliseconds the window has left.
# With ARGV[4] = "all", all of them or none, and none are counted when refused: a batch refused as a whole
# does not spend the window's room on nothing. Atomic, so every window gets its expiry, even one an older
# release left without.
_LEASE_LUA = """
local wanted = tonumber(ARGV[3])
local count = redis.call('INCRBY', KEYS[1], wanted)
local window_ms = redis.call('PTTL', KEYS[1])
if window_ms < 0 then
    window_ms = tonumber(ARGV[2]) * 1000
    redis.call('PEXPIRE', KEYS[1], window_ms)
end
local left = tonumber(ARGV[1]) - (count - wanted)
if ARGV[4] == 'all' and left < wanted then
    redis.call('DECRBY', KEYS[1], wanted)
    return {0, window_ms}
end
return {math.max(0, math.min(wanted, left)), window_ms}
"""


@dataclass
class _Lease:
    hits_left: int
    ends_at: float  # time.monotonic()


_leases: dict[Hit, _Lease] = {}  # keyed by the hit itself: its Redis key is hashed only to ask Redis
_leases_lock = threading.Lock()


def _hit_from_lease(hit: Hit) -> bool:
    with _leases_lock:
        lease = _leases.get(hit)
        if lease is None or lease.hits_left <= 0 or time.monotonic() >= lease.ends_at:
            return False
        lease.hits_left -= 1
        return True


def _keep_lease(hit: Hit, hits_left: int, window_seconds: float) -> None:
    now = time.monotonic()
    with _leases_lock:
        held = _leases.get(hit)
        if held is not None and now < held.ends_at:
            hits_left += held.hits_left  # another thread's lease in the same window
        _leases[hit] = _Lease(hits_left, now + window_seconds)
        if len(_leases) > LEASES_KEPT:
            for key in [key for key, lease in _leases.items() if lease.ends_at <= now]:
                del _leases[key]


def forget_leases() -> None:
    """Drop every lease this process holds; their unused hits are lost for their windows."""
    with _leases_lock:
        _leases.clear()


def rate_limit_hit(hit: Hit, *, count: int = 1) -> None:
    """Count the hit, `count` times at once (a batch of spends); past its limit raise RateLimited (429)
    with Retry-After. Several hits are asked of Redis together, never of a lease: all of them are counted,
    or, when the window has no room for all, none."""
    if count == 1 and _hit_from_lease(hit):
        return
    wanted = hit.limit.lease_size if count == 1 else count
    try:
        client = get_redis_connection("default")
        granted, window_ms = client.register_script(_LEASE_LUA)(
            keys=[hit.key], args=[hit.limit.count, hit.limit.seconds, wanted, "all" if count > 1 else "lease"]
        )
    except RedisError as error:
        logger.warning("rate limit %s not enforced, Redis unavailable: %s", hit.scope, error)
        return
    if granted == 0:
        raise RateLimited("Too many requests; slow down.", retry_after=max(math.ceil(window_ms / 1000), 1))
    if count == 1 and granted > 1:
        _keep_lease(hit, granted - 1, window_ms / 1000)


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the address our own trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
