"""The single-column keys to the ledger's journal (transactions, entries) give way to the composite ones of
ledger 0029, with organization_id (ledgerx/tenant_keys.py; docs/scaling.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0003_distribution_keys'),
        ('ledger', '0029_transaction_key_to_composite'),
    ]

    operations = [
        migrations.AlterField(
            model_name='approvalrequest',
            name='transaction',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='approval', to='ledger.transaction'),
        ),
    ]
