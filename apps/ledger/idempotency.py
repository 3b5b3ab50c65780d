"""Idempotency keys, held by the database alone: the unique constraint on (organization,
idempotency_key) decides which request a key belongs to.

A request's INSERT either takes the key or meets the row that took it. A retry racing its original
waits on that index entry until the original commits, then answers with it; so no request is ever
seen half done, and there is no second store (a Redis claim, as before) to keep in step with the
first or to lose in a restart.
"""

import hashlib

import orjson

from ledgerx.errors import IdempotencyKeyReused, InvalidInput


def validate_key(key: str | None) -> str:
    if key is None or not (1 <= len(key) <= 255) or not key.isprintable():
        raise InvalidInput(
            "An Idempotency-Key header of 1-255 printable characters is required.",
            fields={"Idempotency-Key": ["Required: 1-255 printable characters."]},
        )
    return key


def fingerprint(payload: dict) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def check_replay(*, stored_fingerprint: str, request_fingerprint: str) -> None:
    """The key is taken: the same request is a replay, another is refused."""
    if stored_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
