"""A connection as the database's owner, for tests that do what the application role may not:
tamper with the ledger below the application, disable a trigger, TRUNCATE.

Its own autocommit connection, so what it does is committed at once: tests that use it run with
`transactional_db` (their rows are committed too, and visible to it).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import connection


def owner_connection_kwargs() -> dict:
    """How to reach the test database as its owner (the application's `connection` is not it)."""
    owner = settings.DATABASE_OWNER
    return {
        "dbname": connection.settings_dict["NAME"],
        "user": owner["USER"],
        "password": owner["PASSWORD"] or None,
        "host": owner["HOST"] or None,
        "port": owner["PORT"] or None,
    }


@contextmanager
def owner_cursor() -> Iterator[psycopg.Cursor]:
    with psycopg.connect(**owner_connection_kwargs(), autocommit=True) as owner, owner.cursor() as cursor:
        yield cursor


@contextmanager
def triggers_off(cursor: psycopg.Cursor, *tables: str) -> Iterator[None]:
    """The tables' own triggers switched off for the block, on the owner's `cursor`, to tamper below them."""
    for table in tables:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
