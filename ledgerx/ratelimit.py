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


def _key(scope: str, identity: str) -> str:
    # Hashed so that emails and addresses never sit in Redis in the clear.
    return f"ledgerx:rl:{scope}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"


def rate_limit_hit(*, scope: str, identity: str, limit: Limit) -> None:
    """Count one hit of `identity` in `scope`; past `limit` raise RateLimited (429) with Retry-After.

    One INCR in the common case: it sits on the spend path, where every round trip counts. The
    window's expiry is set by the hit that opens it, and set again by any refused hit that finds
    it missing (a process that died between the two commands), so no counter outlives its window.
    """
    key = _key(scope, identity)
    try:
        client = get_redis_connection("default")
        count = client.incr(key)
        if count == 1:
            client.expire(key, limit.seconds)
        if count <= limit.count:
            return
        ttl = client.ttl(key)
        if ttl < 0:
            client.expire(key, limit.seconds)
            ttl = limit.seconds
    except RedisError as error:
        logger.warning("rate limit %s not enforced, Redis unavailable: %s", scope, error)
        return
    raise RateLimited("Too many requests; slow down.", retry_after=max(int(ttl), 1))


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the address our own trusted proxies saw (TRUSTED_PROXY_COUNT)."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
