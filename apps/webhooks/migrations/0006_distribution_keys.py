"""Webhook tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id),
a delivery's event and endpoint by composite keys, its uniqueness per organization."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):

    dependencies = [
        ('tenancy', '0006_invitation'),
        ('webhooks', '0005_bill_event_types'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='delivery',
            name='delivery_one_per_event_and_endpoint',
        ),
        migrations.AlterField(
            model_name='delivery',
            name='endpoint',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint'),
        ),
        migrations.AlterField(
            model_name='delivery',
            name='event',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.outboxevent'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('event', 'endpoint', 'organization'), name='delivery_one_per_event_and_endpoint'),
        ),
        TenantPrimaryKey("webhooks.webhookendpoint"),
        TenantPrimaryKey("webhooks.outboxevent"),
        TenantPrimaryKey("webhooks.delivery"),
        CompositeForeignKey("webhooks.delivery", "event"),
        CompositeForeignKey("webhooks.delivery", "endpoint"),
    ]
