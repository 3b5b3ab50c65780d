"""Two database roles, so that the application cannot switch the ledger's guards off.

The ledger's and the audit log's guarantees are triggers, and whoever owns a table (or is a
superuser) may disable its triggers, TRUNCATE it or drop it. So the owner role owns the tables and
runs migrations, and the application connects as a role that owns nothing: it reads and writes
what the code reads and writes, only appends to the append-only tables, and may not TRUNCATE,
ALTER, touch a trigger or create anything.

Which connection is which (`database_settings`):
- DATABASE_OWNER_URL set (the migrate job in production): it is the owner's, DATABASE_URL the application's.
- DATABASE_URL naming DATABASE_APP_ROLE alone (web and workers in production): the application's;
  there is no owner connection, so this process cannot migrate.
- DATABASE_URL naming another role alone (the demo, the tests, one superuser): it is the owner's,
  and the application connects as DATABASE_APP_ROLE with a password derived from SECRET_KEY.

`migrate` (apps/system/management/commands/migrate.py) connects as the owner and ends with
`grant_app_role`, so every migrate re-applies the grants to every table, later migrations' too.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import dj_database_url
import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from psycopg import sql

# The database refuses UPDATE, DELETE and TRUNCATE there with triggers; the grants refuse them too.
APPEND_ONLY_TABLES = (
    "ledger_entry",
    "ledger_entryseal",
    "ledger_chaincheckpoint",
    "ledger_balancecheckpoint",
    "ledger_monthclose",
    "ledger_verifiedpoint",
    "audit_auditevent",
    "audit_auditchange",
    "audit_auditchangeseal",
    "audit_auditcheckpoint",
    # A settled spend records the policy version it was decided on: that version must stay as it was.
    "controls_spendpolicyversion",
    # A correction is a new rate; the rate a spend was converted at stays as it was entered.
    "fx_fxrate",
)
# Written by migrate alone, as the owner.
OWNER_WRITTEN_TABLES = ("django_migrations",)
# What the owner's connection takes from DATABASE_OWNER_URL; the database name stays DATABASE_URL's
# (under test, the test database's).
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
# Django's PostgreSQL backend, grouping by every selected column (ledgerx/postgres/base.py).
ENGINE = "ledgerx.postgres"


def app_role_password(role: str, secret_key: str) -> str:
    return salted_hmac("ledgerx.db_roles.app_role_password", role, secret=secret_key, algorithm="sha256").hexdigest()


def database_settings(
    database_url: str, owner_url: str, app_role: str, secret_key: str, **parse_options
) -> tuple[dict, dict | None]:
    """The application's DATABASES entry, and the owner's credentials (CREDENTIALS) if this process has them."""
    database = dj_database_url.parse(database_url, engine=ENGINE, **parse_options)
    if owner_url:
        owner = dj_database_url.parse(owner_url)
    elif database["USER"] == app_role:
        return database, None
    else:
        owner = dict(database)
        database.update(USER=app_role, PASSWORD=app_role_password(app_role, secret_key))
    if owner["USER"] == database["USER"]:
        raise ImproperlyConfigured(
            f"The application and the owner are both the database role {owner['USER']!r}: "
            "DATABASE_URL must name the application role, DATABASE_OWNER_URL the owner."
        )
    return database, {key: owner[key] for key in CREDENTIALS}


@contextmanager
def connected_as_owner(connection) -> Iterator[None]:
    """`connection` reconnects as the owner for the block, and as before after it."""
    from django.conf import settings

    if settings.DATABASE_OWNER is None:
        raise ImproperlyConfigured(
            "DATABASE_URL names the application role and DATABASE_OWNER_URL is not set: "
            "this process has no owner connection to migrate with."
        )
    saved = {key: connection.settings_dict[key] for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update(settings.DATABASE_OWNER)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_app_role(connection, role: str, password: str | None) -> None:
    """Creates the application role if it is missing, and grants it exactly what the code needs.

    Idempotent, and run as the owner: everything is revoked and granted again, so what a later
    migration created, or someone granted by hand, ends the same.
    """
    from django.db import DatabaseError, transaction

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        execute = partial(_execute, cursor)
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            create = sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(create.as_string(cursor.connection))
            except DatabaseError as error:
                # Roles belong to the whole server: another database's migrate may have just made it.
                if not isinstance(error.__cause__, psycopg.errors.DuplicateObject | psycopg.errors.UniqueViolation):
                    raise
        cursor.execute(
            "SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid)"
            " FROM pg_roles r WHERE r.rolname = %s",
            [role],
        )
        if cursor.fetchone()[0]:
            raise ImproperlyConfigured(
                f"The application role {role!r} is a superuser or owns tables: it could disable the "
                "ledger's triggers. Give DATABASE_URL a role that owns nothing."
            )
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        execute("GRANT CONNECT ON DATABASE {} TO {}", database, role)
        # PostgreSQL before 15 lets every role create in the public schema.
        execute("REVOKE CREATE ON SCHEMA {} FROM PUBLIC", schema)
        execute("GRANT USAGE ON SCHEMA {} TO {}", schema, role)
        execute("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}", schema, role)
        execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}", schema, role)
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
            [schema, [*APPEND_ONLY_TABLES, *OWNER_WRITTEN_TABLES]],
        )
        present = {name for (name,) in cursor.fetchall()}
        if append_only := tuple(name for name in APPEND_ONLY_TABLES if name in present):
            execute("REVOKE UPDATE, DELETE ON {} FROM {}", append_only, role)
        if owner_written := tuple(name for name in OWNER_WRITTEN_TABLES if name in present):
            execute("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}", owner_written, role)
        # A partition is reached through its partitioned table alone, whose grants and statement triggers (the
        # month-close check of the entries) apply; a statement on the partition itself would skip them.
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relispartition AND relkind = 'r'",
            [schema],
        )
        if partitions := tuple(name for (name,) in cursor.fetchall()):
            execute("REVOKE ALL ON {} FROM {}", partitions, role)
        execute("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}", schema, role)
        execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}", schema, role)


def _execute(cursor, statement: str, *identifiers: str | tuple[str, ...]) -> None:
    """Runs `statement` with its {} filled by quoted names (a tuple: a list of them)."""
    names = [
        sql.SQL(", ").join(map(sql.Identifier, name)) if isinstance(name, tuple) else sql.Identifier(name)
        for name in identifiers
    ]
    cursor.execute(sql.SQL(statement).format(*names).as_string(cursor.connection))
