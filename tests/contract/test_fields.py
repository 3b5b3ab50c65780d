"""The input fields of ledgerx.fields take a value exactly as sent: nothing trimmed, nothing after a newline."""

import pytest
from rest_framework import serializers

from ledgerx.fields import AmountField, CurrencyField, PeriodField


class _Input(serializers.Serializer):
    amount = AmountField(required=False)
    currency = CurrencyField(required=False)
    period = PeriodField(required=False)


def _errors(**data) -> dict:
    serializer = _Input(data=data)
    serializer.is_valid()
    return serializer.errors


@pytest.mark.parametrize("currency", [" USD", "USD ", "USD\n", "usd", "Usd", "US", "USDX", "ÜSD", "U5D", "", 840])
def test_a_currency_is_exactly_three_upper_case_letters(currency):
    assert "currency" in _errors(currency=currency)


def test_a_currency_as_sent_is_kept():
    serializer = _Input(data={"currency": "EUR"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["currency"] == "EUR"


@pytest.mark.parametrize("amount", [" 5.00", "5.00 ", "5.00\n"])
def test_an_amount_is_not_trimmed(amount):
    # parse_amount refuses it (tests/money); the field must hand it over untouched to be refused.
    serializer = _Input(data={"amount": amount})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["amount"] == amount


@pytest.mark.parametrize("period", ["2026-01\n", " 2026-01", "2026-01 ", "2026-13", "2026-1"])
def test_a_period_is_the_whole_string(period):
    assert "period" in _errors(period=period)
