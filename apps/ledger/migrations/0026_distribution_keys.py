"""GL accounts keyed by organization, for distribution (docs/scaling.md), once payables 0004 has made
the vendors' key to them db_constraint=False: primary key (id, organization_id), and the composite keys
that point at them, the vendors' included (that field's own migration left its key to this one)."""

from django.db import migrations

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0025_distribution_keys"),
        ("payables", "0004_distribution_keys"),
    ]

    operations = [
        TenantPrimaryKey("ledger.glaccount"),
        CompositeForeignKey("ledger.chartofaccounts", "default_expense_account"),
        CompositeForeignKey("ledger.glmapping", "gl_account"),
        CompositeForeignKey("payables.vendor", "default_gl_account"),
    ]
