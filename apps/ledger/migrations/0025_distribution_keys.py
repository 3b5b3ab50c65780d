"""Ledger tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id) and
composite keys for accounts, balance checkpoints, chaincheckpoints and month closes. GL accounts follow in
0026, once the vendors' key to them is composite (payables 0004). Transactions, entries and seals are
the ledger partitioning's (branch `partition`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey, UniqueInOrganization


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0024_bills_and_bank'),
        ('tenancy', '0006_invitation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='account',
            name='account_one_payable_per_employee',
        ),
        migrations.RemoveConstraint(
            model_name='balancecheckpoint',
            name='balance_checkpoint_cut_per_account',
        ),
        migrations.AlterField(
            model_name='account',
            name='department',
            field=models.OneToOneField(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='expense_account', to='tenancy.department'),
        ),
        migrations.AlterField(
            model_name='balancecheckpoint',
            name='account',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.account'),
        ),
        migrations.AlterField(
            model_name='chartofaccounts',
            name='default_expense_account',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.glaccount'),
        ),
        migrations.AlterField(
            model_name='glmapping',
            name='gl_account',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='mappings', to='ledger.glaccount', verbose_name='GL account'),
        ),
        migrations.AddConstraint(
            model_name='account',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'employee_payable')), fields=('employee', 'organization'), name='account_one_payable_per_employee'),
        ),
        migrations.AddConstraint(
            model_name='balancecheckpoint',
            constraint=models.UniqueConstraint(fields=('account', 'cut_at', 'organization'), name='balance_checkpoint_cut_per_account'),
        ),
        TenantPrimaryKey("ledger.account"),
        TenantPrimaryKey("ledger.balancecheckpoint"),
        TenantPrimaryKey("ledger.chaincheckpoint"),
        TenantPrimaryKey("ledger.monthclose"),
        TenantPrimaryKey("ledger.chartofaccounts"),
        TenantPrimaryKey("ledger.glmapping"),
        CompositeForeignKey("ledger.account", "department"),
        UniqueInOrganization("ledger.account", "department"),
        CompositeForeignKey("ledger.balancecheckpoint", "account"),
    ]
