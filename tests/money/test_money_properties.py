"""Properties of money parsing and formatting (ledgerx.money), for every currency LedgerX accepts."""

import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ledgerx.money import (
    CURRENCY_EXPONENTS,
    CURRENCY_SYMBOLS,
    MAX_MINOR,
    MoneyError,
    currency_exponent,
    format_money,
    parse_amount,
    to_decimal_string,
)

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
amounts = st.integers(min_value=1, max_value=MAX_MINOR)


@given(minor=amounts, currency=currencies)
@example(minor=1, currency="JPY")
@example(minor=MAX_MINOR, currency="KWD")
def test_decimal_string_round_trips(minor, currency):
    text = to_decimal_string(minor, currency)
    assert parse_amount(text, currency) == minor


@given(minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), currency=currencies)
def test_decimal_string_has_exactly_the_currencys_decimals(minor, currency):
    text = to_decimal_string(minor, currency)
    exponent = currency_exponent(currency)
    pattern = r"-?(0|[1-9][0-9]*)" + (rf"\.[0-9]{{{exponent}}}" if exponent else "")
    assert re.fullmatch(pattern, text), text
    # Exact, without a float anywhere: Decimal reads the string as written.
    assert Decimal(text) * 10**exponent == minor


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    fraction=st.text(alphabet="0123456789", min_size=1, max_size=6),
    currency=currencies,
)
def test_more_decimals_than_the_currency_has_are_refused(whole, fraction, currency):
    exponent = currency_exponent(currency)
    text = f"{whole}.{fraction}"
    if len(fraction) > exponent:
        with pytest.raises(MoneyError, match="decimal places"):
            parse_amount(text, currency, allow_zero=True)
    else:
        assert parse_amount(text, currency, allow_zero=True) == whole * 10**exponent + int(
            fraction.ljust(exponent, "0")
        )


@given(value=st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.decimals(), currency=currencies)
def test_only_strings_are_amounts(value, currency):
    with pytest.raises(MoneyError):
        parse_amount(value, currency)


@given(
    text=st.from_regex(r"\A(-|\+)?[0-9]{1,5}(\.[0-9]{1,3})?[eE][-+]?[0-9]{1,3}\Z")
    | st.sampled_from(["NaN", "nan", "Infinity", "-1.00", "+1.00", " 1.00", "1.00 ", "1,000.00", "0x10", "01.00", ".5"])
    | st.sampled_from(["1.", "1e3", "١٢٣", "1_000", "", "-0"]),
    currency=currencies,
)
def test_signs_exponents_and_odd_spellings_are_refused(text, currency):
    with pytest.raises(MoneyError):
        parse_amount(text, currency)


@given(
    minor=amounts,
    currency=currencies,
    before=st.sampled_from(["", " ", "\n", "\t", "\r\n", "\x00"]),
    after=st.sampled_from(["\n", " ", "\t", "\r\n", "\x00", "\n\n"]),
)
@example(minor=500, currency="USD", before="", after="\n")
def test_the_whole_string_is_the_amount(minor, currency, before, after):
    # A valid amount with anything around it, a trailing newline above all (`$` matches before one), is refused.
    with pytest.raises(MoneyError):
        parse_amount(before + to_decimal_string(minor, currency) + after, currency)


@given(currency=currencies, zeros=st.text(alphabet="0", min_size=0, max_size=3))
def test_zero_is_refused_unless_allowed(currency, zeros):
    exponent = currency_exponent(currency)
    text = "0" + (f".{zeros}" if zeros and len(zeros) <= exponent else "")
    with pytest.raises(MoneyError, match="greater than zero"):
        parse_amount(text, currency)
    assert parse_amount(text, currency, allow_zero=True) == 0


@given(minor=st.integers(min_value=MAX_MINOR + 1, max_value=MAX_MINOR * 10**6), currency=currencies)
def test_amounts_past_the_ceiling_are_refused(minor, currency):
    with pytest.raises(MoneyError, match="too large"):
        parse_amount(to_decimal_string(minor, currency), currency)


@given(currency=st.text(min_size=0, max_size=5).filter(lambda c: c not in CURRENCY_EXPONENTS))
def test_unknown_currencies_are_refused(currency):
    with pytest.raises(MoneyError, match="Unknown currency"):
        parse_amount("1", currency)


def _read_back(formatted: str, currency: str) -> int:
    """Parse format_money's output the way a person reads it."""
    negative = formatted.startswith("-")
    body = formatted.lstrip("-")
    symbol = CURRENCY_SYMBOLS.get(currency)
    body = body.removeprefix(symbol) if symbol else body.removesuffix(f" {currency}")
    whole, _, fraction = body.replace(",", "").partition(".")
    exponent = currency_exponent(currency)
    minor = int(whole) * 10**exponent + (int(fraction) if fraction else 0)
    return -minor if negative else minor


@given(minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), currency=currencies)
@example(minor=5_000_000, currency="USD")
def test_formatting_for_people_reads_back_to_the_same_amount(minor, currency):
    formatted = format_money(minor, currency)
    assert _read_back(formatted, currency) == minor
    exponent = currency_exponent(currency)
    if minor % 10**exponent == 0:
        assert "." not in formatted  # whole amounts show no cents: "$50,000"
    else:
        assert re.search(rf"\.[0-9]{{{exponent}}}\b", formatted)


def test_known_spellings():
    assert format_money(5_000_000, "USD") == "$50,000"
    assert format_money(600_050, "USD") == "$6,000.50"
    assert format_money(1234, "JPY") == "¥1,234"
    assert format_money(1_234_567, "KWD") == "1,234.567 KWD"
    assert to_decimal_string(600_000, "USD") == "6000.00"
    assert to_decimal_string(5, "KWD") == "0.005"
