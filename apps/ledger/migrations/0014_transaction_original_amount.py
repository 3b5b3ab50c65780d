"""Transactions keep the amount as spent, its currency and the FX rate that converted it.

Every transaction before this was in its organization's base currency: its original is its amount, at
rate 1, with no rate date. The columns are added nullable, filled, then made NOT NULL.
"""

from django.db import migrations, models
from django.db.models import F, Q

import ledgerx.money


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0013_transaction_policy_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="original_amount_minor",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="transaction",
            name="original_currency",
            field=models.CharField(max_length=3, null=True),
        ),
        migrations.AddField(
            model_name="transaction",
            name="fx_rate",
            field=models.DecimalField(
                decimal_places=ledgerx.money.RATE_DECIMAL_PLACES, max_digits=ledgerx.money.RATE_MAX_DIGITS, null=True
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="fx_rate_date",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.RunSQL(
            "UPDATE ledger_transaction SET original_amount_minor = amount_minor, original_currency = currency, "
            "fx_rate = 1",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="transaction",
            name="original_amount_minor",
            field=models.BigIntegerField(),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="original_currency",
            field=models.CharField(max_length=3),
        ),
        migrations.AlterField(
            model_name="transaction",
            name="fx_rate",
            field=models.DecimalField(
                decimal_places=ledgerx.money.RATE_DECIMAL_PLACES, max_digits=ledgerx.money.RATE_MAX_DIGITS
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=(
                    Q(original_currency=F("currency"), original_amount_minor=F("amount_minor"), fx_rate=1)
                    & Q(fx_rate_date__isnull=True)
                )
                | (
                    ~Q(original_currency=F("currency"))
                    & Q(original_amount_minor__gt=0, fx_rate__gt=0, fx_rate_date__isnull=False)
                ),
                name="transaction_original_amount_converted",
            ),
        ),
    ]
