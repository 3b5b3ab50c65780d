"""Spend controls keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id)."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("controls", "0003_receipt_rule"),
    ]

    operations = [
        TenantPrimaryKey("controls.spendpolicyversion"),
        TenantPrimaryKey("controls.spendrule"),
        TenantPrimaryKey("controls.spendtally"),
    ]
