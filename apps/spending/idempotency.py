"""Idempotency keys, held by the database alone: the unique constraint on (organization,
idempotency_key) decides which request a key belongs to.

A request's INSERT either takes the key or meets the row that took it. A retry racing its original
waits on that index entry until the original commits, then answers with it; so no request is ever
seen half done, and there is no second store (a Redis claim, as before) to keep in step with the
first or to lose in a restart.
"""

import hashlib
from collections.abc import Callable

import orjson
from django.db import IntegrityError

from apps.ledger.models import Transaction
from apps.tenancy.models import Organization
from ledgerx.errors import IdempotencyKeyReused, InvalidInput, LedgerXError

IDEMPOTENCY_CONSTRAINT = "transaction_idempotency_key_per_organization"


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


def violated_constraint(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def replay_of(*, organization: Organization, key: str, request_fingerprint: str) -> Transaction | None:
    """The committed transaction this key produced, if any; refused if it came from another request."""
    existing = Transaction.objects.of(organization).filter(idempotency_key=key).first()
    if existing is not None:
        check_replay(
            stored_fingerprint=existing.request_fingerprint, request_fingerprint=request_fingerprint
        )
    return existing


def idempotent_create(
    *,
    organization: Organization,
    key: str,
    request: dict,
    create: Callable[[str], tuple[Transaction, bool]],
    admission: Callable[[], None] | None = None,
) -> tuple[Transaction, bool]:
    """Run `create(fingerprint)` at most once per (organization, key); a repeat returns the first result.

    The key's unique constraint decides (see `idempotency`): an INSERT that meets the key's row
    answers with that row, or is refused if another request body took the key. `create` may find
    the key's row itself and say it replayed. `admission` (a frozen spender, a rate limit, the
    backlog, a spend policy) may refuse the request first, but never a replay: a refused request whose
    key already has its transaction is answered with it, so a client told "nothing was recorded" never
    pays twice by resending with a new key, and a spend accepted before a freeze or a rule change
    still replays after.
    Returns the transaction and whether this call was a replay.
    """
    request_fingerprint = fingerprint(request)
    if admission is not None:
        try:
            admission()
        except LedgerXError:
            replayed = replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint)
            if replayed is None:
                raise
            return replayed, True
    try:
        return create(request_fingerprint)
    except IntegrityError as error:
        if violated_constraint(error) != IDEMPOTENCY_CONSTRAINT:
            raise
        return replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint), True
