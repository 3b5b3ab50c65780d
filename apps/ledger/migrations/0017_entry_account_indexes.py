"""Two indexes on ledger_entry for an account's balance at an instant (apps/ledger/balances.py), built
CONCURRENTLY so that settlement goes on inserting entries while they build; they replace the plain index
on account_id, dropped after them."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ledger", "0016_entry_gl_code"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="entry",
            index=models.Index(
                fields=["account", "created_at"], include=("amount_minor", "id"), name="entry_account_created"
            ),
        ),
        AddIndexConcurrently(
            model_name="entry",
            index=models.Index(
                fields=["account", "id"], include=("created_at", "amount_minor"), name="entry_account_id"
            ),
        ),
        migrations.AlterField(
            model_name="entry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="ledger.account",
            ),
        ),
    ]
