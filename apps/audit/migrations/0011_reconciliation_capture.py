"""Statement sources and matches join the audit change log (0007_audit_capture): a source's column
mapping and date window decide which spend a statement line is matched to, and a match is what says a
spend is reconciled, so an auditor sees every change to either, with who made it (automatic matches made
at import included). The capture function is 0007's, unchanged."""

from importlib import import_module

from django.db import migrations

_capture = import_module("apps.audit.migrations.0007_audit_capture")

CAPTURED = {
    "reconciliation_statementsource": ("INSERT", "UPDATE", "DELETE"),
    "reconciliation_statementmatch": ("INSERT", "UPDATE", "DELETE"),
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
        ("audit", "0010_chart_capture"),
        ("reconciliation", "0001_initial"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
