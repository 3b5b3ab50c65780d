"""The application connects as a role that owns nothing and may do only what the code does;
`migrate` runs as the owner, creates that role and grants it (ledgerx/db_roles.py)."""

import subprocess
import sys
import urllib.request
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledgerx import db_roles
from tests.owner import owner_cursor
from tests.processes import ROOT, database_url, process_env, start_web, stop

APP_ROLE = settings.DATABASES["default"]["USER"]
OWNER_ROLE = settings.DATABASE_OWNER["USER"]


def test_settings_derive_the_application_role_from_a_lone_superuser_url():
    database, owner = db_roles.database_settings(
        "postgresql://postgres:root-password@db.example:5433/ledgerx", "", "ledgerx_app", "the-secret-key"
    )
    assert (database["USER"], database["NAME"], database["HOST"], database["PORT"]) == (
        "ledgerx_app",
        "ledgerx",
        "db.example",
        5433,
    )
    assert database["PASSWORD"] == db_roles.app_role_password("ledgerx_app", "the-secret-key")
    assert database["PASSWORD"] != db_roles.app_role_password("ledgerx_app", "another-secret-key")
    assert owner == {"USER": "postgres", "PASSWORD": "root-password", "HOST": "db.example", "PORT": 5433}


def test_settings_when_database_url_names_the_application_role():
    database, owner = db_roles.database_settings(
        "postgresql://app:app-password@pgbouncer:6432/ledgerx",
        "postgresql://owner:owner-password@postgres:5432/ledgerx",
        "ledgerx_app",
        "the-secret-key",
    )
    assert (database["USER"], database["PASSWORD"], database["HOST"]) == ("app", "app-password", "pgbouncer")
    assert owner == {"USER": "owner", "PASSWORD": "owner-password", "HOST": "postgres", "PORT": 5432}
    # Web and workers in production: the application role alone, no owner to migrate with.
    database, owner = db_roles.database_settings(
        "postgresql://ledgerx_app:app-password@pgbouncer:6432/ledgerx", "", "ledgerx_app", "the-secret-key"
    )
    assert (database["USER"], database["PASSWORD"], owner) == ("ledgerx_app", "app-password", None)
    with pytest.raises(ImproperlyConfigured, match="both the database role 'owner'"):
        db_roles.database_settings(
            "postgresql://owner@postgres/ledgerx", "postgresql://owner@postgres/ledgerx", "ledgerx_app", "key"
        )


@pytest.mark.django_db
def test_migrate_without_an_owner_connection_refuses_to_run(settings):
    settings.DATABASE_OWNER = None
    with pytest.raises(ImproperlyConfigured, match="no owner connection"):
        call_command("migrate", verbosity=0)


@pytest.mark.django_db
def test_the_application_connects_as_a_role_that_is_no_superuser_and_owns_no_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.usename, current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,"
            " (SELECT count(*) FROM pg_tables t WHERE t.tableowner = a.usename)"
            " FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename WHERE a.pid = pg_backend_pid()"
        )
        session_user, current_user, superuser, createrole, createdb, bypassrls, tables_owned = cursor.fetchone()
        cursor.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema()")
        owners = {owner for (owner,) in cursor.fetchall()}
    assert session_user == current_user == APP_ROLE != OWNER_ROLE
    assert not (superuser or createrole or createdb or bypassrls)
    assert tables_owned == 0
    assert owners == {OWNER_ROLE}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_immutable", "must be owner"),
        ("ALTER TABLE ledger_entry DISABLE TRIGGER USER", "must be owner"),
        ("DROP TRIGGER ledger_entry_immutable ON ledger_entry", "must be owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("TRUNCATE ledger_entry", "permission denied"),
        ("TRUNCATE ledger_transaction", "permission denied"),
        ("UPDATE ledger_entry SET amount_minor = 0", "permission denied"),
        ("DELETE FROM ledger_entryseal", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("INSERT INTO django_migrations (app, name, applied) VALUES ('ledger', '9999_x', now())", "permission denied"),
        ("CREATE TABLE intruder (id int)", "permission denied for schema"),
        ("SELECT setval('ledger_entry_id_seq', 1)", "permission denied"),
    ],
)
def test_the_application_role_is_refused_what_the_code_never_does(statement, refusal):
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)


TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def _privileges(cursor, role: str) -> dict[str, set[str]]:
    """Every table of the schema, with what `role` may do to it."""
    checks = ", ".join(f"has_table_privilege(%s, c.oid, '{privilege}')" for privilege in TABLE_PRIVILEGES)
    cursor.execute(
        f"SELECT c.relname, {checks} FROM pg_class c"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')",
        [role] * len(TABLE_PRIVILEGES),
    )
    return {
        table: {privilege for privilege, granted in zip(TABLE_PRIVILEGES, row, strict=True) if granted}
        for table, *row in cursor.fetchall()
    }


def _expected_privileges(cursor, tables) -> dict[str, set[str]]:
    """A partition grants nothing: the application reaches it through its partitioned table alone."""
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relispartition"
    )
    partitions = {name for (name,) in cursor.fetchall()}

    def expected(table: str) -> set[str]:
        if table in partitions:
            return set()
        if table in db_roles.APPEND_ONLY_TABLES:
            return {"SELECT", "INSERT"}
        if table in db_roles.OWNER_WRITTEN_TABLES:
            return {"SELECT"}
        return {"SELECT", "INSERT", "UPDATE", "DELETE"}

    return {table: expected(table) for table in tables}


@pytest.mark.django_db
def test_every_table_grants_the_application_role_exactly_what_the_code_does():
    with connection.cursor() as cursor:
        privileges = _privileges(cursor, APP_ROLE)
        cursor.execute(
            "SELECT bool_and(has_sequence_privilege(%s, c.oid, 'USAGE')),"
            " bool_and(has_sequence_privilege(%s, c.oid, 'SELECT')),"
            " bool_or(has_sequence_privilege(%s, c.oid, 'UPDATE')),"
            " has_schema_privilege(%s, current_schema(), 'CREATE')"
            " FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'S'",
            [APP_ROLE] * 4,
        )
        sequences_usable, sequences_readable, sequences_settable, schema_create = cursor.fetchone()
        expected = _expected_privileges(cursor, privileges)
    assert {"ledger_entry", "ledger_entryseal", "audit_auditevent", "ledger_transaction"} <= privileges.keys()
    assert privileges == expected
    assert sequences_usable and sequences_readable
    assert not sequences_settable
    assert not schema_create


def _manage(owner_url: str, app_role: str, *command: str) -> None:
    environment = {
        **process_env(settings.REDIS_URL),
        "DATABASE_URL": owner_url,
        "DATABASE_OWNER_URL": "",
        "DATABASE_APP_ROLE": app_role,
    }
    result = subprocess.run([sys.executable, "manage.py", *command], env=environment, cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.slow
@pytest.mark.django_db
def test_migrate_on_an_empty_database_creates_the_role_and_grants_later_tables_too():
    """As in the demo: DATABASE_URL alone names the owner; migrate creates the application role."""
    database = f"{connection.settings_dict['NAME']}_fresh"
    role = f"ledgerx_app_{uuid.uuid4().hex[:8]}"  # roles are the server's: one of this test's own
    owner_url = database_url(settings.DATABASE_OWNER, database)
    with owner_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {database}")
    try:
        _manage(owner_url, role, "migrate", "--noinput")
        with psycopg.connect(owner_url, autocommit=True) as fresh, fresh.cursor() as cursor:
            cursor.execute("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = %s", [role])
            assert cursor.fetchone() == (True, False)
            privileges = _privileges(cursor, role)
            assert privileges["ledger_entry"] == {"SELECT", "INSERT"}
            assert privileges == _expected_privileges(cursor, privileges)

            # Tables a later migrate creates are granted too (webhooks' tables, dropped and made again).
            _manage(owner_url, role, "migrate", "--noinput", "webhooks", "zero")
            assert "webhooks_webhookendpoint" not in _privileges(cursor, role)
            _manage(owner_url, role, "migrate", "--noinput")
            privileges = _privileges(cursor, role)
            assert privileges["webhooks_webhookendpoint"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
            assert privileges == _expected_privileges(cursor, privileges)
    finally:
        with owner_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            cursor.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_served_web_process_connects_as_the_application_role():
    """The web server given DATABASE_URL naming the application role alone, as in production."""
    web, base_url = start_web(process_env(settings.REDIS_URL, TEST_CONN_MAX_AGE="60"), threads=1)
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=5) as response:
            assert response.status == 200
        connection.close()  # so that every other connection to the test database is the server's
        with owner_cursor() as cursor:
            cursor.execute(
                "SELECT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            users = [user for (user,) in cursor.fetchall()]
    finally:
        stop(web)
    assert users
    assert set(users) == {APP_ROLE}
