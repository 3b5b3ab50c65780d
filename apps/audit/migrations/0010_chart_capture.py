"""The chart of accounts' tables join the audit change log (0007_audit_capture): what finance changes
in an organization's GL accounts and mapping rules decides where its spends post, so an auditor sees
every such change, with who made it. The capture function is 0007's, unchanged."""

from importlib import import_module

from django.db import migrations

_capture = import_module("apps.audit.migrations.0007_audit_capture")

CAPTURED = {
    "ledger_glaccount": ("INSERT", "UPDATE", "DELETE"),
    "ledger_chartofaccounts": ("INSERT", "UPDATE", "DELETE"),
    "ledger_glmapping": ("INSERT", "UPDATE", "DELETE"),
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
        ("audit", "0009_statement_actions"),
        ("ledger", "0020_chart_of_accounts"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
