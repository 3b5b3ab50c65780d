"""Payables tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id),
composite keys between vendors, bills, runs and lines, the one-standing and one-pending keys per
organization. The vendor's GL account key is composite from ledger 0026. A bill's spend is keyed by
the ledger's partitioning (branch `partition`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0025_distribution_keys'),
        ('payables', '0003_paying_account_schedule'),
        ('tenancy', '0006_invitation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='paymentline',
            name='payment_line_one_standing_per_bill',
        ),
        migrations.RemoveConstraint(
            model_name='vendorbankchange',
            name='vendor_bank_change_one_pending',
        ),
        migrations.AlterField(
            model_name='bill',
            name='vendor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='bills', to='payables.vendor'),
        ),
        migrations.AlterField(
            model_name='paymentline',
            name='bill',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='payment_lines', to='payables.bill'),
        ),
        migrations.AlterField(
            model_name='paymentline',
            name='run',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='payables.paymentrun'),
        ),
        migrations.AlterField(
            model_name='paymentline',
            name='vendor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='payables.vendor'),
        ),
        migrations.AlterField(
            model_name='paymentrun',
            name='paying_account',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='payables.payingaccount'),
        ),
        migrations.AlterField(
            model_name='vendor',
            name='default_gl_account',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.glaccount'),
        ),
        migrations.AlterField(
            model_name='vendorbankchange',
            name='vendor',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='bank_changes', to='payables.vendor'),
        ),
        migrations.AddConstraint(
            model_name='paymentline',
            constraint=models.UniqueConstraint(condition=models.Q(('returned_at__isnull', True)), fields=('bill', 'organization'), name='payment_line_one_standing_per_bill'),
        ),
        migrations.AddConstraint(
            model_name='vendorbankchange',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('vendor', 'organization'), name='vendor_bank_change_one_pending'),
        ),
        TenantPrimaryKey("payables.payingaccount"),
        TenantPrimaryKey("payables.vendor"),
        TenantPrimaryKey("payables.vendorbankchange"),
        TenantPrimaryKey("payables.bill"),
        TenantPrimaryKey("payables.paymentrun"),
        TenantPrimaryKey("payables.paymentline"),
        CompositeForeignKey("payables.vendorbankchange", "vendor"),
        CompositeForeignKey("payables.bill", "vendor"),
        CompositeForeignKey("payables.paymentrun", "paying_account"),
        CompositeForeignKey("payables.paymentline", "run"),
        CompositeForeignKey("payables.paymentline", "bill"),
        CompositeForeignKey("payables.paymentline", "vendor"),
    ]
