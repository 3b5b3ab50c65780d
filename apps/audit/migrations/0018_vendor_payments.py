"""Vendor payments in the audit log: their back-office actions, and vendors, their payment detail changes
and the organization's paying accounts in the change log (0007_audit_capture): where money is sent to is
what an auditor most wants every change of, with who made it. The capture function is 0007's, unchanged."""

from importlib import import_module

from django.db import migrations, models

_capture = import_module("apps.audit.migrations.0007_audit_capture")

CAPTURED = {
    "payables_vendor": ("INSERT", "UPDATE", "DELETE"),
    "payables_vendorbankchange": ("INSERT", "UPDATE", "DELETE"),
    "payables_payingaccount": ("INSERT", "UPDATE", "DELETE"),
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
        ("audit", "0017_scim_capture"),
        ("payables", "0002_bills_and_payment_runs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("budget.limit_set", "Budget limit set"),
                    ("transaction.reversed", "Transaction reversed"),
                    ("fraud_alert.resolved", "Fraud alert resolved"),
                    ("user.created", "User created"),
                    ("user.role_changed", "User role changed"),
                    ("user.frozen", "User's spending frozen"),
                    ("user.unfrozen", "User's spending unfrozen"),
                    ("department.created", "Department created"),
                    ("department.updated", "Department updated"),
                    ("department.head_set", "Department head set"),
                    ("spend_rule.created", "Spend rule created"),
                    ("spend_rule.updated", "Spend rule updated"),
                    ("spend_rule.deleted", "Spend rule deleted"),
                    ("access_review.signed_off", "Access review signed off"),
                    ("retention.year_archived", "Closed year archived"),
                    ("statement.imported", "Statement imported"),
                    ("statement_match.confirmed", "Statement line match confirmed"),
                    ("statement_match.removed", "Statement line unmatched"),
                    ("statement_line.spend_created", "Spend created from a statement line"),
                    ("ledger.month_closed", "Month closed"),
                    ("ledger.month_reopened", "Month reopened"),
                    ("mfa.device_added", "Second factor added"),
                    ("mfa.device_removed", "Second factor removed"),
                    ("mfa.recovery_codes_generated", "Recovery codes generated"),
                    ("mfa.recovery_code_used", "Recovery code used"),
                    ("mfa.reset", "Second factors reset"),
                    ("user.provisioned", "User provisioned by the identity provider"),
                    ("user.email_changed", "User's email changed"),
                    ("user.department_changed", "User's department changed"),
                    ("user.deactivated", "User deactivated"),
                    ("user.reactivated", "User reactivated"),
                    ("scim.user_attributes_set", "User's SCIM attributes set"),
                    ("scim.token_issued", "SCIM token issued"),
                    ("scim.token_revoked", "SCIM token revoked"),
                    ("scim.group_created", "SCIM group created"),
                    ("scim.group_updated", "SCIM group updated"),
                    ("scim.group_deleted", "SCIM group deleted"),
                    ("scim.group_mapping_set", "SCIM group mapping set"),
                    ("scim.group_mapping_removed", "SCIM group mapping removed"),
                    ("sso.configured", "Single sign-on configured"),
                    ("sso.break_glass_sign_in", "Password sign-in while SSO is required"),
                    ("invitation.sent", "Invitation sent"),
                    ("invitation.revoked", "Invitation revoked"),
                    ("invitation.accepted", "Invitation accepted"),
                    ("approval_policy.created", "Approval policy created"),
                    ("approval_policy.deleted", "Approval policy deleted"),
                    ("webhook_endpoint.created", "Webhook endpoint created"),
                    ("webhook_endpoint.updated", "Webhook endpoint updated"),
                    ("webhook_endpoint.deleted", "Webhook endpoint deleted"),
                    ("vendor.created", "Vendor created"),
                    ("vendor.updated", "Vendor updated"),
                    ("vendor.bank_change_requested", "Vendor payment details change requested"),
                    ("vendor.bank_change_approved", "Vendor payment details change approved"),
                    ("vendor.bank_change_rejected", "Vendor payment details change rejected"),
                    ("paying_account.added", "Paying bank account added"),
                    ("payment_run.created", "Payment run drafted"),
                    ("payment_run.released", "Payment run released"),
                    ("payment_run.discarded", "Payment run discarded"),
                    ("payment.returned", "Vendor payment returned"),
                ],
                max_length=64,
            ),
        ),
        migrations.RunSQL(INSTALL, REMOVE),
    ]
