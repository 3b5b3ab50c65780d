"""The audit chain's tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id),
a seal's change by a composite key and its uniqueness per organization. Platform changes keep their
PLATFORM_CHAIN organization id. AuditEvent waits: a platform event has no organization (tests/test_distribution.py)."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey, UniqueInOrganization


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0019_payment_run_schedule_actions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditchangeseal',
            name='change',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='seal', to='audit.auditchange'),
        ),
        TenantPrimaryKey("audit.auditchange"),
        TenantPrimaryKey("audit.auditchangeseal"),
        TenantPrimaryKey("audit.auditcheckpoint"),
        CompositeForeignKey("audit.auditchangeseal", "change"),
        UniqueInOrganization("audit.auditchangeseal", "change"),
    ]
