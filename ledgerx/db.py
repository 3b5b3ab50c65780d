"""A cursor whose statements PostgreSQL parses and plans once per connection, for the money path's
hottest statements (the spend INSERT, the settlement claim); and bulk rows as one JSON parameter.

Django binds parameters on the client: each statement reaches PostgreSQL as text with its values
in it, to be parsed, analysed and planned afresh. For the spend INSERT (twenty columns, its
foreign keys and checks, seven indexes) that was measured on the 2-core machine at about 45 µs
of PostgreSQL's CPU and 50 µs of the web process's (quoting every value) per request. This cursor binds on the
server and prepares each statement the first time its connection runs it.

Prepared statements belong to the server session, and so do the settlement lock and the drain lease
(session advisory locks taken outside the transaction): a pooler in front of PostgreSQL must use
session pooling, which ledgerx/pooling.py checks at start-up (docs/operations.md, "Connection poolers").
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import orjson
import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
# Raised by the database for an entry dated into a closed month, or a change of a closed month's budget
# (apps/ledger migration 0023_month_close_triggers).
MONTH_CLOSED_SQLSTATE = "LXC01"
Result = TypeVar("Result")


class _PreparingCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


def prepared_cursor() -> CursorWrapper:
    """A cursor on the default connection, as `connection.cursor()` but preparing what it runs.

    Wrapped as Django wraps its own, so errors are Django's and the query is logged where queries
    are. Use it in a `with` block, which closes it.
    """
    connection = connections[DEFAULT_DB_ALIAS]  # once: each use of `django.db.connection` looks it up
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = _PreparingCursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def json_rows(rows: list[dict]) -> str:
    """Rows for a set-based statement, as one parameter that SQL reads with `json_to_recordset(%s::json)`
    (or `jsonb_to_recordset` where a column is itself JSON).

    orjson writes the whole batch in C (uuids, dates and strings included), where binding an array
    per column had psycopg adapt every element in Python: measured on the 2-core machine, 2,000
    rows of three columns cost about 13 ms of CPU as arrays and 1.2 ms as JSON.
    """
    return orjson.dumps(rows).decode()


def run_serializable(operation: Callable[[], Result]) -> Result:
    """Run `operation` in a SERIALIZABLE transaction, retrying serialization failures and deadlocks."""
    attempts = settings.SETTLEMENT_MAX_RETRIES
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                return operation()
        except OperationalError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == attempts:
                raise
            logger.info("retrying after %s (attempt %d)", sqlstate, attempt)
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")
