"""Reporting reads on a streaming replica of PostgreSQL, while it keeps up; everything else on the primary.

A reporting read (a dashboard, a question, a report, a books export) is a long scan that decides
nothing: it may read a copy that is a few seconds behind. Code that reads for reporting says so with
`reporting_reads()`, and `ReportingReplicaRouter` then sends its reads to the `replica` database
when one is configured (REPLICA_DATABASE_URL), answers, is in recovery and is less than
REPLICA_MAX_LAG_SECONDS behind; otherwise to the primary, as if there were no replica.

Money decisions never read from the replica: nothing on the money path enters `reporting_reads()`,
and a read inside a transaction on the primary stays on the primary even where a caller did (a
decision reads and writes in one transaction, and must see its own rows).

Lag is measured on the replica: zero while its WAL receiver streams and has replayed all it
received, else the time since the last transaction it replayed (an idle primary's replica that lost
its primary counts as behind). The verdict is kept for REPLICA_CHECK_SECONDS per process, so a
reporting request costs no extra round trip.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA_ALIAS = "replica"

_reporting = ContextVar("reporting_reads", default=False)
_verdict_lock = threading.Lock()
_verdict: dict[str, float | bool] = {"usable": False, "checked_at": float("-inf")}

# pg_stat_wal_receiver shows its row to any role (its columns to privileged ones only): the row is
# there while the WAL receiver runs.
LAG_QUERY = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
"""


@contextmanager
def reporting_reads() -> Iterator[None]:
    """Reads in the block may be served by the replica (see the module's docstring)."""
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


def replica_lag_seconds() -> float | None:
    """How far the replica is behind, in seconds; None when it does not answer or is not a replica."""
    try:
        with connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute(LAG_QUERY)
            in_recovery, caught_up, since_last_replay = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA_ALIAS].close()  # reconnect at the next check
        return None
    if not in_recovery:
        return None  # promoted, or not a replica at all: its data is no longer the primary's
    if caught_up:
        return 0.0
    return float("inf") if since_last_replay is None else float(since_last_replay)


def replica_usable() -> bool:
    """Whether reporting reads go to the replica now; decided at most every REPLICA_CHECK_SECONDS."""
    now = time.monotonic()
    with _verdict_lock:
        if now - _verdict["checked_at"] < settings.REPLICA_CHECK_SECONDS:
            return bool(_verdict["usable"])
        lag = replica_lag_seconds()
        _verdict.update(usable=lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS, checked_at=now)
        return bool(_verdict["usable"])


def replica_verdict_forget() -> None:
    """The next reporting read checks the replica afresh (tests, and after a failover)."""
    with _verdict_lock:
        _verdict.update(usable=False, checked_at=float("-inf"))


class ReportingReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if not _reporting.get() or REPLICA_ALIAS not in settings.DATABASES:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return REPLICA_ALIAS if replica_usable() else None

    def db_for_write(self, model, **hints) -> str | None:
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the primary's rows: an object read there is the primary's

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db == REPLICA_ALIAS else None
