"""Fraud tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id).
Settings are keyed by organization already; alerts' and risks' spends by the ledger's partitioning
(branch `partition`)."""

from django.db import migrations

from ledgerx.tenant_keys import TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("fraud", "0002_unusual_hours_against_the_employees_history"),
    ]

    operations = [
        TenantPrimaryKey("fraud.fraudalert"),
        TenantPrimaryKey("fraud.spendstatistic"),
        TenantPrimaryKey("fraud.transactionrisk"),
    ]
