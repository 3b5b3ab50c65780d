"""The one place budget rows are locked, so the lock order is one piece of code.

Every writer of `spent_minor` holds the organization's settlement lock (a PostgreSQL advisory
lock taken *before* its transaction starts, so its snapshot is newer than the last writer's
commit and SERIALIZABLE never fails on the wait), then locks the budget rows with
SELECT ... FOR UPDATE in ascending primary-key order, so two writers can never deadlock.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from django.db import DatabaseError, connection

from .models import BudgetPeriod

# Organizations whose settlement lock this thread's connection holds: lock_budget_periods refuses
# to run without it, so the lock rule is checked where it is needed, not followed by convention.
_HELD_ATTRIBUTE = "ledgerx_settlement_locks_held"


def _settlement_locks_held() -> set[uuid.UUID]:
    held = getattr(connection, _HELD_ATTRIBUTE, None)
    if held is None:
        held = set()
        setattr(connection, _HELD_ATTRIBUTE, held)
    return held


def _advisory_key(organization_id: uuid.UUID) -> int:
    # The low 63 bits of the organization's UUID: stable across processes, fits a bigint.
    return organization_id.int & ((1 << 63) - 1)


@contextmanager
def organization_settlement_lock(organization_id: uuid.UUID) -> Iterator[None]:
    """Serialize writers of one organization's budgets. Must be taken outside any transaction."""
    if connection.in_atomic_block:
        raise RuntimeError("take the settlement lock before the transaction starts")
    key = _advisory_key(organization_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    _settlement_locks_held().add(organization_id)
    try:
        yield
    finally:
        _settlement_locks_held().discard(organization_id)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:
            # The session is gone, and a session's advisory locks go with it.
            connection.close()


def lock_budget_periods(
    *, organization_id: uuid.UUID, department_ids: Iterable[uuid.UUID], months: Iterable[date]
) -> dict[tuple, BudgetPeriod]:
    """Lock the periods of these departments and months, in ascending primary-key order.

    Refused unless the caller holds the organization's settlement lock and is inside a SERIALIZABLE
    transaction: every reader-then-writer of `spent`/`held` decides on totals no one else can move.
    """
    if organization_id not in _settlement_locks_held():
        raise RuntimeError("budget periods are locked under the organization's settlement lock")
    if not connection.in_atomic_block:
        raise RuntimeError("budget periods are locked inside the transaction that writes them")
    with connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        if cursor.fetchone()[0] != "serializable":
            raise RuntimeError("budget periods are locked in a SERIALIZABLE transaction")
    periods = (
        BudgetPeriod.objects.select_for_update(of=("self",))
        .filter(organization_id=organization_id, department_id__in=set(department_ids), month__in=set(months))
        .order_by("pk")
    )
    return {(period.department_id, period.month): period for period in periods}
