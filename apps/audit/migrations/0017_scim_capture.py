"""SCIM's identity tables join the audit change log (0007_audit_capture): the attributes an identity
provider keeps for each user, its groups, and the mappings that turn a group into a department or a
role, each change with who made it (the SCIM token's label, or the org admin). The capture function is
0007's, unchanged. Not captured: tokens (their digest is not for the log; issuing and revoking are audit
events) and group memberships (no organization column; each change is in the group's audit event)."""

from importlib import import_module

from django.db import migrations

_capture = import_module("apps.audit.migrations.0007_audit_capture")

CAPTURED = {
    "scim_scimuser": ("INSERT", "UPDATE", "DELETE"),
    "scim_scimgroup": ("INSERT", "UPDATE", "DELETE"),
    "scim_scimgroupmapping": ("INSERT", "UPDATE", "DELETE"),
}

INSTALL = "\n".join(
    f"CREATE TRIGGER {_capture.capture_trigger_name(table, operation)}\n"
    f"    AFTER {operation} ON {table} {_capture.REFERENCING[operation]}\n"
    "    FOR EACH STATEMENT EXECUTE FUNCTION audit_change_capture();\n"
    for table, operations in CAPTURED.items()
    for operation in operations
)

REMOVE = "\n".join(
    f"DROP TRIGGER IF EXISTS {_capture.capture_trigger_name(table, operation)} ON {table};"
    for table, operations in CAPTURED.items()
    for operation in operations
)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0016_self_serve_actions"),
        ("scim", "0001_initial"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
