"""Rate limits as fixed-window counters in Redis.

Counters are shared by every web process. If Redis cannot be reached the limit is not enforced
(logged): refusing every login and spend because the counter store is down would be worse.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from .errors import RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


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


# Counts one hit on KEYS[1] in a fixed window of ARGV[2] seconds, refused past ARGV[1] hits; leaves
# `retry_after` at -1 when the hit is allowed. Atomic, so the window always gets its expiry. Another
# script may start with it (keeping KEYS[1], ARGV[1] and ARGV[2] for it) to count a hit in the same
# round trip as its own work.
COUNT_HIT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local retry_after = -1
if count > tonumber(ARGV[1]) then
    retry_after = redis.call('TTL', KEYS[1])
    if retry_after < 0 then
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        retry_after = tonumber(ARGV[2])
    end
end
"""
_RATE_LIMIT_HIT = COUNT_HIT_LUA + "return retry_after"


def refuse_if_limited(retry_after: int) -> None:
    """Turn a count's `retry_after` into the 429 the caller answers with."""
    if retry_after >= 0:
        raise RateLimited("Too many requests; slow down.", retry_after=max(retry_after, 1))


def rate_limit_hit(hit: Hit) -> None:
    """Count the hit; past its limit raise RateLimited (429) with Retry-After."""
    try:
        client = get_redis_connection("default")
        retry_after = client.register_script(_RATE_LIMIT_HIT)(keys=[hit.key], args=[hit.limit.count, hit.limit.seconds])
    except RedisError as error:
        logger.warning("rate limit %s not enforced, Redis unavailable: %s", hit.scope, error)
        return
    refuse_if_limited(int(retry_after))


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the address our own trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
