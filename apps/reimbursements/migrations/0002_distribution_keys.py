"""Payout tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id), a
line's batch by a composite key. A line's claim is keyed by the ledger's partitioning (branch `partition`)."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('reimbursements', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payoutline',
            name='batch',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='reimbursements.payoutbatch'),
        ),
        TenantPrimaryKey("reimbursements.payoutbatch"),
        TenantPrimaryKey("reimbursements.payoutline"),
        CompositeForeignKey("reimbursements.payoutline", "batch"),
    ]
