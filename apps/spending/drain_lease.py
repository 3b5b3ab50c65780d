"""The drain lease: at most one settlement drain per organization at a time.

A session-level advisory lock on a key of its own (the organization UUID's high bits; the
budgets' settlement lock uses the low ones), so a worker that dies drops its lease with its
connection.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection


def _drain_lease_key(organization_id: uuid.UUID) -> int:
    # The UUID's high 63 bits; the settlement lock uses the low ones.
    return (organization_id.int >> 64) & ((1 << 63) - 1)


def organization_drain_in_progress(organization_id: uuid.UUID) -> bool:
    """Whether a session holds the organization's drain lease at this moment."""
    key = _drain_lease_key(organization_id)
    with connection.cursor() as cursor:
        # A bigint advisory key shows in pg_locks as its high and low 32 bits, objsubid 1.
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND classid = %s::bigint::oid AND objid = %s::bigint::oid
            )
            """,
            [key >> 32, key & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0]


@contextmanager
def organization_drain_lease(organization_id: uuid.UUID) -> Iterator[bool]:
    """Try to become the organization's one settlement drain; yields whether it did.

    A session-level advisory lock on a key of its own (the UUID's high bits; the settlement lock
    uses the low ones), so a worker that dies drops its lease with its connection.
    """
    if connection.in_atomic_block:
        raise RuntimeError("take the drain lease outside any transaction")
    key = _drain_lease_key(organization_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        leased = cursor.fetchone()[0]
    try:
        yield leased
    finally:
        if leased:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                connection.close()  # the session is gone, and its advisory locks with it
