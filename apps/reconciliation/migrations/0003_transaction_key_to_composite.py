"""The single-column keys to the ledger's journal (transactions, entries) give way to the composite ones of
ledger 0029, with organization_id (ledgerx/tenant_keys.py; docs/scaling.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0029_transaction_key_to_composite'),
        ('reconciliation', '0002_distribution_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='statementmatch',
            name='transaction',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='statement_match', to='ledger.transaction'),
        ),
    ]
