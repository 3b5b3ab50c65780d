"""Idempotency keys: Redis answers the common cases fast; the database's unique constraint on
(organization, idempotency_key) is the truth when Redis is empty, restarted or unreachable.

Redis holds, per organization and key, `<fingerprint>:<claimed at>` from the moment a request
claims the key. A repeat finds the claim and asks the database whether the first request
committed (replay) or is still running (in flight). A claim whose request died before
committing is taken over once it is older than the in-flight window.

The claim is one Lua script, which can also count the caller's rate-limit hit: on the spend path
every Redis round trip costs a measurable share of the request.
"""

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass

import orjson
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from ledgerx.errors import IdempotencyInFlight, IdempotencyKeyReused, InvalidInput
from ledgerx.ratelimit import COUNT_HIT_LUA, Hit, refuse_if_limited

logger = logging.getLogger(__name__)

KEY_TTL_SECONDS = 48 * 3600

# The claim key is the last of KEYS, its value and lifetime the last two of ARGV.
_CLAIM_LUA = """
if retry_after >= 0 then return {'limited', retry_after} end
if redis.call('SET', KEYS[#KEYS], ARGV[#ARGV - 1], 'NX', 'EX', ARGV[#ARGV]) then return {'claimed'} end
return {'taken', redis.call('GET', KEYS[#KEYS])}
"""
_CLAIM = "local retry_after = -1\n" + _CLAIM_LUA
_COUNT_HIT_AND_CLAIM = COUNT_HIT_LUA + _CLAIM_LUA


@dataclass(frozen=True)
class IdempotencyClaim:
    redis_key: str
    fingerprint: str
    repeated: bool  # the key was claimed before by a request with this same fingerprint
    claimed_at: float


def validate_key(key: str | None) -> str:
    if key is None or not (1 <= len(key) <= 255) or not key.isprintable():
        raise InvalidInput(
            "An Idempotency-Key header of 1-255 printable characters is required.",
            fields={"Idempotency-Key": ["Required: 1-255 printable characters."]},
        )
    return key


def fingerprint(payload: dict) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _redis_key(organization_id: uuid.UUID, key: str) -> str:
    return f"ledgerx:idem:{organization_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def claim(
    *, organization_id: uuid.UUID, key: str, request_fingerprint: str, hit: Hit | None = None
) -> IdempotencyClaim:
    """Claim the key for this request in one Redis round trip, counting `hit` against its rate limit first.

    Raises RateLimited past the limit (the key is then not claimed), and IdempotencyKeyReused when
    the key was claimed with another body. A claim with the same body comes back `repeated`: the
    caller asks the database whether to replay or answer 409.
    """
    redis_key = _redis_key(organization_id, key)
    now = time.time()
    claim_args = [f"{request_fingerprint}:{now}", KEY_TTL_SECONDS]
    try:
        client = get_redis_connection("default")
        if hit is None:
            answer = client.register_script(_CLAIM)(keys=[redis_key], args=claim_args)
        else:
            answer = client.register_script(_COUNT_HIT_AND_CLAIM)(
                keys=[hit.key, redis_key], args=[hit.limit.count, hit.limit.seconds, *claim_args]
            )
    except RedisError as error:
        logger.warning("idempotency fast path and rate limit unavailable, using the database: %s", error)
        return IdempotencyClaim(redis_key, request_fingerprint, False, now)
    outcome = answer[0].decode()
    if outcome == "limited":
        refuse_if_limited(int(answer[1]))
    if outcome == "claimed" or len(answer) < 2:  # a Lua nil ends the list
        return IdempotencyClaim(redis_key, request_fingerprint, False, now)
    stored_fingerprint, _, claimed_at = answer[1].decode().partition(":")
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
    return IdempotencyClaim(redis_key, request_fingerprint, True, float(claimed_at or 0))


def in_flight(claim_: IdempotencyClaim) -> None:
    """A repeat found no committed transaction: the first request is still running, or died.

    Within the in-flight window that is a 409; after it the dead claim is taken over.
    """
    if time.time() - claim_.claimed_at < settings.IDEMPOTENCY_IN_FLIGHT_SECONDS:
        raise IdempotencyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
    logger.info("taking over an abandoned idempotency claim")


def check_replay(*, stored_fingerprint: str, request_fingerprint: str) -> None:
    """The database found the key taken: the same request is a replay, another is refused."""
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")


def release(claim_: IdempotencyClaim) -> None:
    """The request failed before committing: let a retry with the same key run again."""
    try:
        client = get_redis_connection("default")
        if client.get(claim_.redis_key) == f"{claim_.fingerprint}:{claim_.claimed_at}".encode():
            client.delete(claim_.redis_key)
    except RedisError as error:
        logger.warning("could not release idempotency key in Redis: %s", error)
