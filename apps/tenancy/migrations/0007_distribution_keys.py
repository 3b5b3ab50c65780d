"""Invitations keyed by organization, for distribution (docs/scaling.md): primary key (id, organization_id).
Organizations, users and departments are reference tables: no change."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0006_invitation"),
    ]

    operations = [
        TenantPrimaryKey("tenancy.invitation"),
    ]
