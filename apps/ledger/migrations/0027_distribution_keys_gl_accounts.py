"""GL accounts keyed by organization, for distribution (docs/scaling.md), once payables 0004 has made
the vendors' and bill lines' keys to them db_constraint=False: primary key (id, organization_id), and the composite keys
that point at them, the vendors' and bill lines' included (their fields' own migration left their keys to this one)."""

from django.db import migrations

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0026_distribution_keys"),
        ("payables", "0005_distribution_keys"),
    ]

    operations = [
        TenantPrimaryKey("ledger.glaccount"),
        CompositeForeignKey("ledger.chartofaccounts", "default_expense_account"),
        CompositeForeignKey("ledger.glmapping", "gl_account"),
        CompositeForeignKey("payables.vendor", "default_gl_account"),
        CompositeForeignKey("payables.billline", "gl_account"),
    ]
