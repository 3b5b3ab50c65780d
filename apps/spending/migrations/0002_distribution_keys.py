"""Spend batches keyed by organization, for distribution (docs/scaling.md): primary key (id, organization_id)."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("spending", "0001_spend_batch"),
    ]

    operations = [
        TenantPrimaryKey("spending.spendbatch"),
    ]
