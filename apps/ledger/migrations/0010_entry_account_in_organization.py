"""An entry's account belongs to its organization: one composite foreign key in place of the
single-column keys on organization and account."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0009_transaction_composite_tenant_keys"),
        ("tenancy", "0002_unique_in_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.account",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(fields=("organization", "id"), name="account_unique_in_organization"),
        ),
        migrations.RunSQL(
            sql="ALTER TABLE ledger_entry ADD CONSTRAINT entry_account_in_organization"
            " FOREIGN KEY (organization_id, account_id) REFERENCES ledger_account (organization_id, id)"
            " DEFERRABLE INITIALLY DEFERRED",
            reverse_sql="ALTER TABLE ledger_entry DROP CONSTRAINT entry_account_in_organization",
        ),
    ]
