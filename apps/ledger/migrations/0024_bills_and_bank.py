"""Vendor bills in the books (apps/payables): a transaction kind `bill`, credited to the organization's
accounts payable; the organization's bank account, which payment runs pay bills out of; and, in every
chart of the time, their GL accounts (2000 accounts payable, 1000 the bank) mapped to the two kinds.
A chart that already uses one of the codes keeps its account under it, mapped."""

from django.conf import settings
from django.db import migrations, models

# As they stand here, not as chart_defaults.py may say later.
NEW_ACCOUNTS = {
    "accounts_payable": ("2000", "Accounts payable", "liability"),
    "bank": ("1000", "Operating bank account", "asset"),
}


def charts_extend(apps, schema_editor) -> None:
    ChartOfAccounts = apps.get_model("ledger", "ChartOfAccounts")
    GLAccount = apps.get_model("ledger", "GLAccount")
    GLMapping = apps.get_model("ledger", "GLMapping")
    for organization_id in ChartOfAccounts.objects.values_list("organization_id", flat=True):
        for kind, (code, name, type_) in NEW_ACCOUNTS.items():
            if GLMapping.objects.filter(organization_id=organization_id, ledger_account_kind=kind).exists():
                continue
            account, _ = GLAccount.objects.get_or_create(
                organization_id=organization_id, code=code, defaults={"name": name, "type": type_}
            )
            GLMapping.objects.create(
                organization_id=organization_id, kind="ledger_account", ledger_account_kind=kind, gl_account=account
            )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0023_month_close_triggers"),
        ("tenancy", "0005_user_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(charts_extend, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="account",
            name="account_owner_fits_kind",
        ),
        migrations.RemoveConstraint(
            model_name="transaction",
            name="transaction_reversal_has_original",
        ),
        migrations.AlterField(
            model_name="account",
            name="kind",
            field=models.CharField(
                choices=[
                    ("card_funding", "Card funding"),
                    ("expense", "Expense"),
                    ("employee_payable", "Employee payable"),
                    ("payout_clearing", "Payout clearing"),
                    ("accounts_payable", "Accounts payable"),
                    ("bank", "Bank"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="glmapping",
            name="ledger_account_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("card_funding", "Card funding"),
                    ("employee_payable", "Employee payable"),
                    ("payout_clearing", "Payout clearing"),
                    ("accounts_payable", "Accounts payable"),
                    ("bank", "Bank"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("spend", "Spend"),
                    ("reversal", "Reversal"),
                    ("reimbursement", "Reimbursement"),
                    ("bill", "Bill"),
                ],
                default="spend",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "accounts_payable")),
                fields=("organization",),
                name="account_one_accounts_payable_per_organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "bank")), fields=("organization",), name="account_one_bank_per_organization"
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "expense"), ("department__isnull", False), ("employee__isnull", True)),
                    models.Q(("kind", "employee_payable"), ("department__isnull", True), ("employee__isnull", False)),
                    models.Q(
                        ("kind__in", ["card_funding", "payout_clearing", "accounts_payable", "bank"]),
                        ("department__isnull", True),
                        ("employee__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="account_owner_fits_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["spend", "reimbursement", "bill"]), ("reversal_of__isnull", True)),
                    models.Q(("kind", "reversal"), ("reversal_of__isnull", False)),
                    _connector="OR",
                ),
                name="transaction_reversal_has_original",
            ),
        ),
    ]
