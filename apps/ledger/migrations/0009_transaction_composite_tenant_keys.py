"""A transaction's department and employee belong to its organization: two composite foreign keys
in place of the single-column keys on organization, department and employee."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_transaction_pending_index_by_organization"),
        ("tenancy", "0002_unique_in_organization"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "ALTER TABLE ledger_transaction ADD CONSTRAINT transaction_department_in_organization"
                " FOREIGN KEY (organization_id, department_id) REFERENCES tenancy_department (organization_id, id)"
                " DEFERRABLE INITIALLY DEFERRED",
                "ALTER TABLE ledger_transaction ADD CONSTRAINT transaction_employee_in_organization"
                " FOREIGN KEY (organization_id, employee_id) REFERENCES tenancy_user (organization_id, id)"
                " DEFERRABLE INITIALLY DEFERRED",
            ],
            reverse_sql=[
                "ALTER TABLE ledger_transaction DROP CONSTRAINT transaction_department_in_organization",
                "ALTER TABLE ledger_transaction DROP CONSTRAINT transaction_employee_in_organization",
            ],
        ),
        migrations.AlterField(
            model_name="transaction",
            name="department",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to="tenancy.department",
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="employee",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transactions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
    ]
