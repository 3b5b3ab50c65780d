"""PostgreSQL backend for the test database only.

Append-only tables refuse TRUNCATE (a trigger); transactional tests flush the database between
tests with TRUNCATE, so here alone the flush lifts those triggers for its own statement.
"""

from django.db.backends.postgresql import base, operations

NO_TRUNCATE_TRIGGERS = {
    "ledger_entry": "ledger_entry_no_truncate",
    "ledger_entryseal": "ledger_entryseal_no_truncate",
    "audit_auditevent": "audit_event_no_truncate",
}


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = [(table, trigger) for table, trigger in NO_TRUNCATE_TRIGGERS.items() if table in tables]
        if not statements or not guarded:
            return statements
        return [
            *(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}" for table, trigger in guarded),
            *statements,
            *(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}" for table, trigger in guarded),
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
