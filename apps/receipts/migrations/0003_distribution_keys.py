"""Receipts and reminders keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id).
Their spends are keyed by the ledger's partitioning (branch `partition`)."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("receipts", "0002_receipt_reading"),
    ]

    operations = [
        TenantPrimaryKey("receipts.receipt"),
        TenantPrimaryKey("receipts.receiptreminder"),
    ]
