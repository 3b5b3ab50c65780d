"""Idempotency keys: Redis answers the common cases fast; the database's unique constraint on
(organization, idempotency_key) is the truth when Redis is empty, restarted or unreachable.

Redis holds, per organization and key, either `inflight:<fingerprint>` while the first request
runs, or `done:<transaction id>:<fingerprint>` once it committed.
"""

import hashlib
import logging
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
    replay_of: uuid.UUID | None  # a committed transaction this request repeats


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


def _redis():
    return get_redis_connection("default")


def claim(*, organization_id: uuid.UUID, key: str, request_fingerprint: str) -> IdempotencyClaim:
    """Reserve the key for this request, or learn that it repeats a committed one.

    Raises IdempotencyInFlight when the same key's first request is still running, and
    IdempotencyKeyReused when Redis remembers it with another body.
    """
    redis_key = _redis_key(organization_id, key)
    try:
        client = _redis()
        reserved = client.set(
            redis_key, f"inflight:{request_fingerprint}", nx=True, ex=settings.IDEMPOTENCY_IN_FLIGHT_SECONDS
        )
        if reserved:
            return IdempotencyClaim(redis_key, request_fingerprint, None)
        existing = client.get(redis_key)
    except RedisError as error:
        logger.warning("idempotency fast path unavailable, using the database: %s", error)
        return IdempotencyClaim(redis_key, request_fingerprint, None)
    if existing is None:
        return IdempotencyClaim(redis_key, request_fingerprint, None)
    state, _, rest = existing.decode().partition(":")
    if state == "inflight":
        raise IdempotencyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
    transaction_id, _, stored_fingerprint = rest.partition(":")
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
    return IdempotencyClaim(redis_key, request_fingerprint, uuid.UUID(transaction_id))


def check_replay(*, stored_fingerprint: str, request_fingerprint: str) -> None:
    """The database found the key taken: the same request is a replay, another is refused."""
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")


def complete(claim_: IdempotencyClaim, *, transaction_id: uuid.UUID) -> None:
    try:
        _redis().set(claim_.redis_key, f"done:{transaction_id}:{claim_.fingerprint}", ex=KEY_TTL_SECONDS)
    except RedisError as error:
        logger.warning("could not record idempotency key in Redis: %s", error)


def release(claim_: IdempotencyClaim) -> None:
    """The request failed before committing: let a retry with the same key run again."""
    try:
        client = _redis()
        if client.get(claim_.redis_key) == f"inflight:{claim_.fingerprint}".encode():
            client.delete(claim_.redis_key)
    except RedisError as error:
        logger.warning("could not release idempotency key in Redis: %s", error)
