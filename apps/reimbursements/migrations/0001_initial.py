"""Payout batches, their lines, and the claims proxy the back office lists (apps/reimbursements/models.py)."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("ledger", "0015_reimbursement_accounts"),
        ("tenancy", "0005_user_frozen"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Claim",
            fields=[],
            options={
                "verbose_name": "reimbursement claim",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("ledger.transaction",),
        ),
        migrations.CreateModel(
            name="PayoutBatch",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("released", "Released")], default="draft", max_length=10
                    ),
                ),
                ("reference", models.CharField(help_text="What the bank shows each payment with.", max_length=40)),
                ("currency", models.CharField(max_length=3)),
                ("total_minor", models.BigIntegerField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("export_sha256", models.CharField(blank=True, default="", max_length=64)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
                    ),
                ),
                (
                    "released_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "payout batches",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="PayoutLine",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("employee_email", models.EmailField(max_length=254)),
                ("amount_minor", models.BigIntegerField()),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="reimbursements.payoutbatch",
                    ),
                ),
                (
                    "claim",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, related_name="payout_line", to="ledger.transaction"
                    ),
                ),
                (
                    "employee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenancy.organization"
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.AddConstraint(
            model_name="payoutbatch",
            constraint=models.UniqueConstraint(
                fields=("organization", "reference"), name="payout_batch_reference_per_org"
            ),
        ),
        migrations.AddConstraint(
            model_name="payoutbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(("total_minor__gt", 0)), name="payout_batch_total_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="payoutbatch",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("released_at__isnull", True), ("released_by__isnull", True), ("status", "draft")),
                    models.Q(("released_at__isnull", False), ("released_by__isnull", False), ("status", "released")),
                    _connector="OR",
                ),
                name="payout_batch_released_fields",
            ),
        ),
        migrations.AddConstraint(
            model_name="payoutline",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_minor__gt", 0)), name="payout_line_amount_positive"
            ),
        ),
    ]
