"""Bills' GL lines, return files, and what each payment cost in the base currency.

Each bill of the time gets its one line: the GL account its expense was posted to, or (not posted yet) its
vendor's default, else its chart's default expense account; a bill with none of those (an organization with
no chart yet) keeps none and is posted as the chart decides, as before. Each payment line of the time cost its
bill's base amount (runs paid only in the base currency's terms). ACH lines of the time keep no trace number:
the files then numbered each run from 1, so a return file cannot name them apart (return them by hand)."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


def bill_lines_backfill(apps, schema_editor) -> None:
    Bill = apps.get_model("payables", "Bill")
    BillLine = apps.get_model("payables", "BillLine")
    ChartOfAccounts = apps.get_model("ledger", "ChartOfAccounts")
    Entry = apps.get_model("ledger", "Entry")
    GLAccount = apps.get_model("ledger", "GLAccount")
    for bill in Bill.objects.select_related("vendor").iterator():
        posted_code = (
            Entry.objects.filter(transaction_id=bill.transaction_id, account__kind="expense", amount_minor__gt=0)
            .values_list("gl_code", flat=True)
            .first()
        )
        account_id = (
            GLAccount.objects.filter(organization_id=bill.organization_id, code=posted_code)
            .values_list("id", flat=True)
            .first()
            if posted_code
            else None
        )
        account_id = (
            account_id
            or bill.vendor.default_gl_account_id
            or ChartOfAccounts.objects.filter(organization_id=bill.organization_id)
            .values_list("default_expense_account_id", flat=True)
            .first()
        )
        if account_id is not None:
            BillLine.objects.create(
                organization_id=bill.organization_id,
                bill=bill,
                position=1,
                gl_account_id=account_id,
                amount_minor=bill.amount_minor,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0025_fx_gain_loss"),
        ("payables", "0003_paying_account_schedule"),
        ("tenancy", "0006_invitation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BillLine",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("position", models.PositiveSmallIntegerField()),
                ("amount_minor", models.BigIntegerField()),
                ("description", models.CharField(blank=True, default="", max_length=200)),
            ],
            options={
                "ordering": ["bill", "position"],
            },
        ),
        migrations.CreateModel(
            name="ReturnFile",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "format",
                    models.CharField(
                        choices=[
                            ("nacha", "NACHA returns (addenda 99)"),
                            ("pain.002", "ISO 20022 pain.002 payment status report"),
                        ],
                        max_length=8,
                    ),
                ),
                ("file_name", models.CharField(max_length=200)),
                ("content", models.BinaryField()),
                ("sha256", models.CharField(max_length=64)),
                ("uploaded_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("outcomes", models.JSONField(default=list)),
            ],
            options={
                "ordering": ["-uploaded_at"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="paymentline",
            name="payment_line_amount_positive",
        ),
        migrations.AddField(
            model_name="paymentline",
            name="paid_base_amount_minor",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunSQL(
            "UPDATE payables_paymentline SET paid_base_amount_minor = base_amount_minor", migrations.RunSQL.noop
        ),
        migrations.AlterField(
            model_name="paymentline",
            name="paid_base_amount_minor",
            field=models.BigIntegerField(),
        ),
        migrations.AddField(
            model_name="paymentline",
            name="trace_number",
            field=models.CharField(blank=True, default="", max_length=15),
        ),
        migrations.AddField(
            model_name="paymentrun",
            name="fx_rate",
            field=models.DecimalField(blank=True, decimal_places=12, max_digits=24, null=True),
        ),
        migrations.AddField(
            model_name="paymentrun",
            name="fx_rate_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="billline",
            name="bill",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="lines", to="payables.bill"
            ),
        ),
        migrations.AddField(
            model_name="billline",
            name="gl_account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="ledger.glaccount"
            ),
        ),
        migrations.AddField(
            model_name="billline",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.AddField(
            model_name="returnfile",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
            ),
        ),
        migrations.AddField(
            model_name="returnfile",
            name="uploaded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="paymentline",
            name="return_file",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lines",
                to="payables.returnfile",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentline",
            constraint=models.UniqueConstraint(
                condition=models.Q(("trace_number", ""), _negated=True),
                fields=("organization", "trace_number"),
                name="payment_line_trace_number_per_org",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount_minor__gt", 0), ("base_amount_minor__gt", 0), ("paid_base_amount_minor__gt", 0)
                ),
                name="payment_line_amount_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="billline",
            constraint=models.UniqueConstraint(fields=("bill", "position"), name="bill_line_position_per_bill"),
        ),
        migrations.AddConstraint(
            model_name="billline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_minor__gt", 0)), name="bill_line_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="returnfile",
            constraint=models.UniqueConstraint(fields=("organization", "sha256"), name="return_file_once_per_org"),
        ),
        migrations.RunPython(bill_lines_backfill, migrations.RunPython.noop),
    ]
