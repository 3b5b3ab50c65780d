"""verify_audit against tampering below the application, one kind per test.

Each tamper is done as the database owner (tests.owner) with the triggers switched off, committed,
as tests/ledger/test_verify_tampering.py does for the ledger. Hence transaction=True.
"""

from importlib import import_module
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.audit.chain import audit_seal_all
from apps.audit.models import AuditChange, AuditCheckpoint, AuditEvent
from apps.audit.verification import audit_verify
from tests.owner import owner_cursor, triggers_off

pytestmark = pytest.mark.django_db(transaction=True)

CAPTURE = import_module("apps.audit.migrations.0007_audit_capture")


def _problems_named_by_the_command() -> list[str]:
    out = StringIO()
    with pytest.raises(CommandError, match="problems found"):
        call_command("verify_audit", stdout=out)
    return [line.removeprefix("PROBLEM: ") for line in out.getvalue().splitlines() if line.startswith("PROBLEM: ")]


def _changes_of(tenant, *names: str) -> list[AuditChange]:
    """Rename the department once per name (one captured UPDATE each), then seal the log."""
    for name in names:
        tenant.department.name = name
        tenant.department.save(update_fields=["name"])
    audit_seal_all()
    return list(
        AuditChange.objects.filter(
            table_name="tenancy_department", row_id=str(tenant.department.id), operation="UPDATE"
        )
    )


def test_a_clean_log_passes_and_the_command_says_ok(tenant):
    _changes_of(tenant, "Research", "Labs")

    report = audit_verify()
    assert report["ok"], report["problems"]
    assert report["checked"]["chain_links_recomputed"] == AuditChange.objects.count()
    assert report["checked"]["checkpoints"] == 1  # the organization's chain: the platform's is empty
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("OK: checked")


def test_a_changed_audit_row_is_named(tenant):
    first, _ = _changes_of(tenant, "Research", "Labs")
    with owner_cursor() as cursor, triggers_off(cursor, "audit_auditchange"):
        cursor.execute("UPDATE audit_auditchange SET actor = 'user:nobody@example.com' WHERE id = %s", [first.id])

    assert f"Audit change {first.id} was changed after it was sealed: it no longer matches its hash" in " ".join(
        _problems_named_by_the_command()
    )


def test_a_deleted_audit_row_is_named(tenant):
    first, _ = _changes_of(tenant, "Research", "Labs")
    with owner_cursor() as cursor, triggers_off(cursor, "audit_auditchange", "audit_auditchangeseal"):
        cursor.execute("DELETE FROM audit_auditchangeseal WHERE change_id = %s", [first.id])
        cursor.execute("DELETE FROM audit_auditchange WHERE id = %s", [first.id])

    problems = " ".join(_problems_named_by_the_command())
    assert "links are missing" in problems and "links were deleted" in problems


def test_a_removed_checkpoint_is_named(tenant):
    _changes_of(tenant, "Research")
    _changes_of(tenant, "Labs")
    first = AuditCheckpoint.objects.filter(organization_id=tenant.organization.id).order_by("sequence").first()
    with owner_cursor() as cursor, triggers_off(cursor, "audit_auditcheckpoint"):
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE id = %s", [first.id])

    assert any(
        "does not follow the checkpoint before it: a checkpoint was removed" in problem
        for problem in _problems_named_by_the_command()
    )


def test_a_missing_capture_trigger_is_named(tenant):
    _changes_of(tenant, "Research")
    name = CAPTURE.capture_trigger_name("tenancy_department", "UPDATE")
    with owner_cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {name} ON tenancy_department")
        try:
            assert f"Trigger {name} on tenancy_department is not installed." in _problems_named_by_the_command()
        finally:
            cursor.execute(
                f"CREATE TRIGGER {name} AFTER UPDATE ON tenancy_department {CAPTURE.REFERENCING['UPDATE']}"
                " FOR EACH STATEMENT EXECUTE FUNCTION audit_change_capture()"
            )
    assert audit_verify()["ok"]


def test_a_changed_or_deleted_back_office_event_is_named(tenant, api):
    for name in ("Research", "Labs"):
        response = api(tenant.admin).patch(f"/api/v1/departments/{tenant.department.id}", {"name": name}, format="json")
        assert response.status_code == 200, response.content
    audit_seal_all()
    changed, deleted = AuditEvent.objects.filter(action=AuditEvent.Action.DEPARTMENT_UPDATED).order_by("id")
    with owner_cursor() as cursor, triggers_off(cursor, "audit_auditevent"):
        cursor.execute('UPDATE audit_auditevent SET after = \'{"name": "Legal"}\' WHERE id = %s', [changed.id])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [deleted.id])

    problems = _problems_named_by_the_command()
    assert f"Audit event {changed.id} is not what was captured when it was written: it was changed." in problems
    assert f"Audit event {deleted.id} was captured in the change log but is gone: it was deleted." in problems
