"""An entry's account belongs to its organization: one composite foreign key in place of the
single-column keys on organization and account.

Not atomic, so that settlement goes on while a large ledger is checked: the new key is added
NOT VALID (a brief lock; every entry written from then on is checked), existing entries are then
validated under a lock that lets inserts through, and only then are the old keys dropped, so no
moment is left without a check.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0009_transaction_composite_tenant_keys"),
        ("tenancy", "0002_unique_in_organization"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="account",
            constraint=models.UniqueConstraint(fields=("organization", "id"), name="account_unique_in_organization"),
        ),
        migrations.RunSQL(
            sql="ALTER TABLE ledger_entry ADD CONSTRAINT entry_account_in_organization"
            " FOREIGN KEY (organization_id, account_id) REFERENCES ledger_account (organization_id, id)"
            " DEFERRABLE INITIALLY DEFERRED NOT VALID",
            reverse_sql="ALTER TABLE ledger_entry DROP CONSTRAINT entry_account_in_organization",
        ),
        migrations.RunSQL(
            sql="ALTER TABLE ledger_entry VALIDATE CONSTRAINT entry_account_in_organization",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="entry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.account",
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
    ]
