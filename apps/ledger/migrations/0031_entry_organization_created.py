"""An organization's entries of a month read index-only in each partition (a close, its verification, a
books export): (organization_id, created_at) with the amount and id, in place of the index on organization_id
alone. Built under a lock (a partitioned table's index cannot be built CONCURRENTLY in PostgreSQL 15)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0030_journal_tenant_keys'),
        ('tenancy', '0007_distribution_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='entry',
            name='organization',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization'),
        ),
        migrations.AddIndex(
            model_name='entry',
            index=models.Index(fields=['organization', 'created_at'], include=('amount_minor', 'id'), name='entry_organization_created'),
        ),
    ]
