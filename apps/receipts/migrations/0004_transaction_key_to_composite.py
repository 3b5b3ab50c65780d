"""The single-column keys to the ledger's journal (transactions, entries) give way to the composite ones of
ledger 0029, with organization_id (ledgerx/tenant_keys.py; docs/scaling.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0029_transaction_key_to_composite'),
        ('receipts', '0003_distribution_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='receipt',
            name='transaction',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='ledger.transaction'),
        ),
        migrations.AlterField(
            model_name='receiptreminder',
            name='transaction',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.transaction'),
        ),
        migrations.RemoveConstraint(
            model_name='receipt',
            name='receipt_file_once_per_spend',
        ),
        migrations.AddConstraint(
            model_name='receipt',
            constraint=models.UniqueConstraint(fields=('transaction', 'sha256', 'organization'), name='receipt_file_once_per_spend'),
        ),
    ]
