"""Migration audit.0021 over a log that holds platform events written with no organization: they get
PLATFORM_CHAIN, the sealed change log is untouched, and the log and its triggers still verify. As the
owner, migrated back and forward again in one transaction, rolled back after (as the ledger's partition
migration is tested)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.audit.chain import audit_seal_all
from apps.audit.models import PLATFORM_CHAIN, AuditEvent
from apps.audit.verification import audit_verify
from ledgerx import db_roles
from ledgerx.guarded_triggers import guarded_trigger_problems

pytestmark = pytest.mark.django_db(transaction=True)

CHANGE_LOG = [
    "SELECT md5(string_agg(row_to_json(r)::text, ',' ORDER BY r.id)) FROM audit_auditchange r",
    "SELECT md5(string_agg(row_to_json(r)::text, ',' ORDER BY r.id)) FROM audit_auditchangeseal r",
]


def _fetch(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_platform_events_get_the_platform_chain_and_the_sealed_log_stays_as_it_was(tenant):
    with db_roles.connected_as_owner(connection), transaction.atomic():
        executor = MigrationExecutor(connection)
        executor.migrate([("audit", "0020_distribution_keys")])
        [(platform_event,)] = _fetch(
            "INSERT INTO audit_auditevent (organization_id, actor_id, actor_email, action, target_type, target_id,"
            " created_at) VALUES (NULL, NULL, '', 'user.created', 'tenancy.user', 'root', now()) RETURNING id"
        )
        audit_seal_all()
        # As if committed: the migration's ALTER TABLE waits for no deferred check.
        _fetch("SET CONSTRAINTS ALL IMMEDIATE")
        [(null_capture,)] = _fetch(
            "SELECT after -> 'organization_id' = 'null' FROM audit_auditchange"
            " WHERE table_name = 'audit_auditevent' AND row_id = %s AND organization_id = %s",
            [str(platform_event), PLATFORM_CHAIN],
        )
        assert null_capture
        sealed = [_fetch(sql) for sql in CHANGE_LOG]

        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        assert AuditEvent.objects.get(id=platform_event).organization_id == PLATFORM_CHAIN
        assert AuditEvent.objects.of(tenant.organization).exists()
        assert [_fetch(sql) for sql in CHANGE_LOG] == sealed
        assert _fetch(
            "SELECT a.attname FROM pg_constraint k JOIN pg_attribute a"
            " ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)"
            " WHERE k.conrelid = 'audit_auditevent'::regclass AND k.contype = 'p' ORDER BY a.attnum"
        ) == [("id",), ("organization_id",)]
        assert guarded_trigger_problems() == []
        report = audit_verify()
        assert report["ok"], report["problems"]
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _fetch("UPDATE audit_auditevent SET action = action WHERE id = %s", [platform_event])
        transaction.set_rollback(True)
