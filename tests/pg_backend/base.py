"""PostgreSQL backend for the test database only.

Append-only tables refuse DELETE and TRUNCATE (triggers); transactional tests flush the database between
tests, so here alone the flush runs with triggers off for its own transaction.

The application role may do neither, nor create or drop databases: the owner does those
(ledgerx/db_roles.py), and `migrate` switches to the owner by itself.
"""

from django.db.backends.postgresql import creation, operations

from ledgerx import db_roles
from ledgerx.guarded_triggers import guarded_triggers, refuses_truncate
from ledgerx.postgres import base


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        """The rows deleted with triggers (foreign keys and the append-only guards) off for the statement's
        transaction, instead of one TRUNCATE of every table: measured, a TRUNCATE of the schema's hundred-odd
        tables with fsync on cost most of a transactional test's teardown, where deleting the few rows a test
        wrote costs almost nothing. The owner (a superuser in tests) may set the replication role."""
        if not tables or reset_sequences:
            return self._truncate_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {self.quote_name(table)}" for table in tables),
        ]

    def _truncate_flush(self, style, tables, *, reset_sequences, allow_cascade):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = [(t.table, t.name) for t in guarded_triggers() if t.table in tables and refuses_truncate(t)]
        if not statements or not guarded:
            return statements
        return [
            *(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}" for table, trigger in guarded),
            *statements,
            *(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}" for table, trigger in guarded),
        ]

    def execute_sql_flush(self, sql_list):
        with db_roles.connected_as_owner(self.connection):
            super().execute_sql_flush(sql_list)


class DatabaseCreation(creation.DatabaseCreation):
    def _create_test_db(self, *args, **kwargs):
        with db_roles.connected_as_owner(self.connection):
            return super()._create_test_db(*args, **kwargs)

    def _destroy_test_db(self, *args, **kwargs):
        with db_roles.connected_as_owner(self.connection):
            super()._destroy_test_db(*args, **kwargs)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
    creation_class = DatabaseCreation
