"""Retention archives keyed by organization, for distribution (docs/scaling.md): primary key (id, organization_id)."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0002_retention_archive_append_only"),
    ]

    operations = [
        TenantPrimaryKey("retention.retentionarchive"),
    ]
