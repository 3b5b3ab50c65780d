"""Budget periods keyed by organization, for distribution (docs/scaling.md): primary key (id, organization_id), the
department by a composite key (so a period's department is of its organization), one period per month
per department and organization."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('budgets', '0007_spent_net_of_reversals'),
        ('tenancy', '0006_invitation'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='budgetperiod',
            name='budget_period_one_per_month',
        ),
        migrations.AlterField(
            model_name='budgetperiod',
            name='department',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='budget_periods', to='tenancy.department'),
        ),
        migrations.AddConstraint(
            model_name='budgetperiod',
            constraint=models.UniqueConstraint(fields=('department', 'month', 'organization'), name='budget_period_one_per_month'),
        ),
        TenantPrimaryKey("budgets.budgetperiod"),
        CompositeForeignKey("budgets.budgetperiod", "department"),
    ]
