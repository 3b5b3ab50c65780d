"""Approval tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id),
a request's policy and a decision's request by composite keys, a decision's uniqueness per organization.
A request's spend is keyed by the ledger's partitioning (branch `partition`)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0002_spender_step_and_routing'),
        ('tenancy', '0006_invitation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='approvaldecision',
            name='approval_one_decision_per_level',
        ),
        migrations.RemoveConstraint(
            model_name='approvaldecision',
            name='approval_one_level_per_approver',
        ),
        migrations.AlterField(
            model_name='approvaldecision',
            name='request',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='approvals.approvalrequest'),
        ),
        migrations.AlterField(
            model_name='approvalrequest',
            name='policy',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='requests', to='approvals.approvalpolicy'),
        ),
        migrations.AddConstraint(
            model_name='approvaldecision',
            constraint=models.UniqueConstraint(fields=('request', 'level', 'organization'), name='approval_one_decision_per_level'),
        ),
        migrations.AddConstraint(
            model_name='approvaldecision',
            constraint=models.UniqueConstraint(fields=('request', 'approver', 'organization'), name='approval_one_level_per_approver'),
        ),
        TenantPrimaryKey("approvals.approvalpolicy"),
        TenantPrimaryKey("approvals.approvalrequest"),
        TenantPrimaryKey("approvals.approvaldecision"),
        CompositeForeignKey("approvals.approvalrequest", "policy"),
        CompositeForeignKey("approvals.approvaldecision", "request"),
    ]
