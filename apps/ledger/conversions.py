"""verify_ledger's check of every transaction's conversion into its organization's base currency.

A transaction in the base currency has its own amount as its original, rate 1 and no rate date. One in
another currency has the base amount its original converts to at its stored rate, rounded half-even
once (ledgerx.money.convert_minor). PostgreSQL's round() on numeric rounds half away from zero and the
currencies' exponents live in ledgerx.money, so the conversion is redone here in Python, over a
server-side cursor that streams the rows in another currency, never holding them all.
"""

from typing import Any

from django.db import connection

from ledgerx.money import MoneyError, convert_minor, rate_text


def conversion_problems(*, scope: str, params: list[Any]) -> list[str]:
    problems: list[str] = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT t.id, t.kind, t.amount_minor, t.currency, t.original_amount_minor, t.original_currency,
                   t.fx_rate, t.fx_rate_date
            FROM ledger_transaction t
            WHERE (t.original_currency <> t.currency
                   OR t.original_amount_minor <> t.amount_minor OR t.fx_rate <> 1 OR t.fx_rate_date IS NOT NULL)
                  {scope.format(alias="t")}
            """,
            params,
        )
        for transaction_id, kind, amount, currency, original, original_currency, rate, rate_date in cursor:
            label = f"{kind.capitalize()} {transaction_id}"
            if original_currency == currency:
                problems.append(
                    f"{label} is in its base currency {currency} but records {original} as spent at rate "
                    f"{rate_text(rate)} (date {rate_date}), not {amount} at rate 1."
                )
                continue
            try:
                expected = convert_minor(original, original_currency, rate, currency)
            except MoneyError as error:
                problems.append(f"{label}: {error}")
                continue
            if rate_date is None or expected != amount:
                problems.append(
                    f"{label} of {original} {original_currency} at rate {rate_text(rate)} ({rate_date}) is "
                    f"{expected} {currency} rounded half-even; it records {amount}."
                )
    return problems
