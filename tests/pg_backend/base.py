"""PostgreSQL backend for the test database only.

Append-only tables refuse TRUNCATE (a trigger); transactional tests flush the database between
tests with TRUNCATE, so here alone the flush lifts those triggers for its own statement.
"""

from django.db.backends.postgresql import base, operations

from ledgerx.guarded_triggers import guarded_triggers, refuses_truncate


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = [(t.table, t.name) for t in guarded_triggers() if t.table in tables and refuses_truncate(t)]
        if not statements or not guarded:
            return statements
        return [
            *(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}" for table, trigger in guarded),
            *statements,
            *(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}" for table, trigger in guarded),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
