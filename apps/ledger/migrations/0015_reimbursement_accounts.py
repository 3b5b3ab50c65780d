"""Reimbursements in the books: a transaction kind `reimbursement` (the kind column widened, which
PostgreSQL does without rewriting the table), employee payable and payout clearing accounts, and a
payable's employee held to the account's organization by a composite key."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0014_transaction_original_amount"),
        ("tenancy", "0005_user_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="account",
            name="account_expense_has_department",
        ),
        migrations.RemoveConstraint(
            model_name="transaction",
            name="transaction_reversal_has_original",
        ),
        migrations.AddField(
            model_name="account",
            name="employee",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunSQL(
            sql="ALTER TABLE ledger_account ADD CONSTRAINT account_employee_in_organization"
            " FOREIGN KEY (organization_id, employee_id) REFERENCES tenancy_user (organization_id, id)"
            " DEFERRABLE INITIALLY DEFERRED",
            reverse_sql="ALTER TABLE ledger_account DROP CONSTRAINT account_employee_in_organization",
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
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="incurred_on",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="kind",
            field=models.CharField(
                choices=[("spend", "Spend"), ("reversal", "Reversal"), ("reimbursement", "Reimbursement")],
                default="spend",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "payout_clearing")),
                fields=("organization",),
                name="account_one_payout_clearing_per_organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "employee_payable")),
                fields=("employee",),
                name="account_one_payable_per_employee",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "expense"), ("department__isnull", False), ("employee__isnull", True)),
                    models.Q(("kind", "employee_payable"), ("department__isnull", True), ("employee__isnull", False)),
                    models.Q(
                        ("kind__in", ["card_funding", "payout_clearing"]),
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
                    models.Q(("kind__in", ["spend", "reimbursement"]), ("reversal_of__isnull", True)),
                    models.Q(("kind", "reversal"), ("reversal_of__isnull", False)),
                    _connector="OR",
                ),
                name="transaction_reversal_has_original",
            ),
        ),
    ]
