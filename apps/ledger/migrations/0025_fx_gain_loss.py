"""Realised FX gain/loss: the account a bill paid in a foreign currency books the difference of its base amount
at payment from its base amount at approval to, and, in every chart of the time, its GL account (7900) mapped to
the kind. A chart that already uses the code keeps its account under it, mapped."""

from django.conf import settings
from django.db import migrations, models

# As it stands here, not as chart_defaults.py may say later.
FX_GAIN_LOSS_ACCOUNT = ("7900", "Realised foreign exchange gain/loss", "expense")


def charts_extend(apps, schema_editor) -> None:
    ChartOfAccounts = apps.get_model("ledger", "ChartOfAccounts")
    GLAccount = apps.get_model("ledger", "GLAccount")
    GLMapping = apps.get_model("ledger", "GLMapping")
    code, name, type_ = FX_GAIN_LOSS_ACCOUNT
    for organization_id in ChartOfAccounts.objects.values_list("organization_id", flat=True):
        if GLMapping.objects.filter(organization_id=organization_id, ledger_account_kind="fx_gain_loss").exists():
            continue
        account, _ = GLAccount.objects.get_or_create(
            organization_id=organization_id, code=code, defaults={"name": name, "type": type_}
        )
        GLMapping.objects.create(
            organization_id=organization_id,
            kind="ledger_account",
            ledger_account_kind="fx_gain_loss",
            gl_account=account,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0024_bills_and_bank"),
        ("tenancy", "0006_invitation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(charts_extend, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="account",
            name="account_owner_fits_kind",
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
                    ("fx_gain_loss", "Realised FX gain/loss"),
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
                    ("fx_gain_loss", "Realised FX gain/loss"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "fx_gain_loss")),
                fields=("organization",),
                name="account_one_fx_gain_loss_per_organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "expense"), ("department__isnull", False), ("employee__isnull", True)),
                    models.Q(("kind", "employee_payable"), ("department__isnull", True), ("employee__isnull", False)),
                    models.Q(
                        ("kind__in", ["card_funding", "payout_clearing", "accounts_payable", "bank", "fx_gain_loss"]),
                        ("department__isnull", True),
                        ("employee__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="account_owner_fits_kind",
            ),
        ),
    ]
