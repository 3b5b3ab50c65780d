"""Idempotency keys: Redis answers the common cases fast; the database's unique constraint on
(organization, idempotency_key) is the truth when Redis is empty, restarted or unreachable.

Redis holds, per organization and key, `<fingerprint>:<claimed at>` from the moment a request
claims the key. A repeat finds the claim and asks the database whether the first request
committed (replay) or is still running (in flight). A claim whose request died before
committing is taken over once it is older than the in-flight window.
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

logger = logging.getLogger(__name__)

KEY_TTL_SECONDS = 48 * 3600


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


def claim(*, organization_id: uuid.UUID, key: str, request_fingerprint: str) -> IdempotencyClaim:
    """Claim the key for this request in one Redis round trip.

    Raises IdempotencyKeyReused when the key was claimed with another body. A claim with the same
    body comes back `repeated`: the caller asks the database whether to replay or answer 409.
    """
    redis_key = _redis_key(organization_id, key)
    now = time.time()
    try:
        client = get_redis_connection("default")
        if client.set(redis_key, f"{request_fingerprint}:{now}", nx=True, ex=KEY_TTL_SECONDS):
            return IdempotencyClaim(redis_key, request_fingerprint, False, now)
        existing = client.get(redis_key)
    except RedisError as error:
        logger.warning("idempotency fast path unavailable, using the database: %s", error)
        return IdempotencyClaim(redis_key, request_fingerprint, False, now)
    if existing is None:
        return IdempotencyClaim(redis_key, request_fingerprint, False, now)
    stored_fingerprint, _, claimed_at = existing.decode().partition(":")
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
