"""New transactions take time-ordered UUIDv7 ids (apps/ledger/ids.py). A Python default only: no SQL, and the
existing rows keep their v4 ids."""

import apps.ledger.ids
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0032_verified_point"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transaction",
            name="id",
            field=models.UUIDField(
                default=apps.ledger.ids.transaction_id, editable=False, primary_key=True, serialize=False
            ),
        ),
    ]
