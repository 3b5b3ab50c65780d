"""Report tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id), a
run's regenerated_from by a composite key."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0002_reports_append_only'),
    ]

    operations = [
        migrations.AlterField(
            model_name='reportrun',
            name='regenerated_from',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='regenerations', to='reports.reportrun'),
        ),
        TenantPrimaryKey("reports.reportrun"),
        TenantPrimaryKey("reports.accessreviewsignoff"),
        CompositeForeignKey("reports.reportrun", "regenerated_from"),
    ]
