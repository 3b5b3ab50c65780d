"""Ledger transaction ids: time-ordered UUIDv7 (RFC 9562), in Python and as SQL for set-based generators.

A new transaction's id starts with the Unix time in milliseconds, so it sorts after every id made before
it since the change: inserts land on the last leaf pages of the v7 range of `ledger_transaction_pkey` and
of the entries' `transaction_id` indexes, which stay cached, where a random UUID touched a random leaf of
indexes that outgrow shared buffers (docs/benchmarks.md, "Growth"). Rows written before the change keep
their v4 ids, scattered on both sides of that range, which new inserts no longer touch.
Only transactions get them, and other tables keep uuid4: of the rows the spend path writes, transactions
are the ones keyed by a UUID that are kept for good (entries have sequence ids; webhook outbox events are
purged after WEBHOOKS_RETENTION_DAYS), so theirs are the UUID indexes that outgrow memory.
"""

import uuid

from uuid_utils.compat import uuid7


def transaction_id() -> uuid.UUID:
    """A new transaction's id: a stdlib UUID, version 7, of the real clock (not a test's travelling one:
    the library reads the system clock), and increasing within the process even inside one millisecond."""
    return uuid7()


def transaction_id_sql(at: str) -> str:
    """SQL for a UUIDv7 of the timestamptz expression `at` (its milliseconds in the first 48 bits), for
    generators that insert transactions set-based: a v4 from gen_random_uuid() with its first 8 bytes
    replaced by the timestamp, the version nibble 7 and 12 random bits; its variant bits and 62 random
    bits are kept. `at` is pasted in, so it must be the caller's own SQL, never input."""
    return (
        "encode(overlay(uuid_send(gen_random_uuid()) PLACING int8send("
        f"(floor(extract(epoch FROM ({at})) * 1000)::bigint << 16) | 28672 | floor(random() * 4096)::bigint"
        ") FROM 1 FOR 8), 'hex')::uuid"
    )
