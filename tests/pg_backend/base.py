"""PostgreSQL backend for the test database only.

Ledger entries refuse TRUNCATE (a trigger); transactional tests flush the database between
tests with TRUNCATE, so here alone the flush lifts that trigger for its own statement.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if not statements or "ledger_entry" not in tables:
            return statements
        return [
            "ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_no_truncate",
            *statements,
            "ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_no_truncate",
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
