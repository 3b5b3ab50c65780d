"""Verified points (apps/ledger/verified_points.py), and the view through which the application reads which
database transaction wrote each entry, live or archived: the archive schema grants it nothing directly."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0031_entry_organization_created"),
    ]

    operations = [
        migrations.CreateModel(
            name="VerifiedPoint",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("organization_id", models.UUIDField(blank=True, null=True)),
                ("snapshot", models.TextField()),
                (
                    "snapshot_xmax",
                    models.BigIntegerField(help_text="The snapshot's xmax, by which points are ordered."),
                ),
                ("verified_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "incremental",
                    models.BooleanField(
                        help_text="Whether the run was asked to resume from an earlier point (--incremental)."
                    ),
                ),
                ("signature", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["-snapshot_xmax"],
                "indexes": [models.Index(fields=["organization_id", "-snapshot_xmax"], name="verified_point_latest")],
            },
        ),
        migrations.RunSQL(
            """
            CREATE VIEW ledger_entry_version AS
                SELECT transaction_id, organization_id, xmin AS row_xmin FROM ledger_entry
                UNION ALL SELECT transaction_id, organization_id, xmin FROM ledger_archive.ledger_entry;
            """,
            "DROP VIEW ledger_entry_version;",
        ),
    ]
