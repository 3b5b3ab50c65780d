"""The single-column keys to the ledger's journal (transactions, entries) give way to the composite ones of
ledger 0029, with organization_id (ledgerx/tenant_keys.py; docs/scaling.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0028_partition_entries'),
    ]

    operations = [
        migrations.AlterField(
            model_name='entry',
            name='transaction',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='ledger.transaction'),
        ),
        # By name: to a partitioned table PostgreSQL adds a key per partition under the one named, which
        # Django would try to drop after dropping the one that owns them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='entryseal',
                    name='entry',
                    field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='seal', to='ledger.entry'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE ledger_entryseal DROP CONSTRAINT ledger_entryseal_entry_id_fe88e832_fk_ledger_entry_id",
                    "ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_entry_id_fe88e832_fk_ledger_entry_id"
                    " FOREIGN KEY (entry_id) REFERENCES ledger_entry (id) DEFERRABLE INITIALLY DEFERRED",
                ),
            ],
        ),
        migrations.AlterField(
            model_name='transaction',
            name='reversal_of',
            field=models.OneToOneField(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversed_by', to='ledger.transaction'),
        ),
    ]
