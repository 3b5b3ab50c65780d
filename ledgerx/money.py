"""Money as integer minor units: parsing decimal strings and formatting for people.

No float ever touches an amount: strings are parsed by a strict pattern into integers.
"""

import re
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from iso4217 import Currency

# ISO 4217 minor-unit exponents, from the `iso4217` package: it ships the maintenance agency's
# (SIX's) own list, versioned by that list's date, so a new or changed currency (ZWG, SLE, XCG)
# arrives with a pin bump. Not Babel: CLDR's "digits" are a display convention that differs from
# ISO 4217 for some currencies (IQD, RSD, ...); not py-moneyed, whose table has not been updated
# since 2022. A code without a minor unit (gold, XXX) is not a currency anyone spends.
CURRENCY_EXPONENTS: dict[str, int] = {
    currency.code: currency.exponent for currency in Currency if currency.exponent is not None
}
CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}

# Amounts stay far below 2**63 minor units so that sums over a department tree cannot overflow.
MAX_MINOR = 10**15

# Matched with fullmatch: `$` would also match before a trailing newline ("5.00\n").
_AMOUNT_PATTERN = re.compile(r"(?P<whole>0|[1-9][0-9]*)(?:\.(?P<fraction>[0-9]+))?")


class MoneyError(ValueError):
    """An amount or currency that LedgerX refuses, with a message a person can act on."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"Unknown currency '{currency}'.") from None


def parse_amount(text: str, currency: str, *, allow_zero: bool = False) -> int:
    """Parse a decimal string in major units ("6000.00") into minor units (600000)."""
    exponent = currency_exponent(currency)
    if not isinstance(text, str):
        raise MoneyError('Amount must be a decimal string such as "6000.00".')
    match = _AMOUNT_PATTERN.fullmatch(text)
    if match is None:
        raise MoneyError('Amount must be a plain positive decimal such as "6000.00" (no sign, exponent or spaces).')
    fraction = match.group("fraction") or ""
    if len(fraction) > exponent:
        raise MoneyError(f"{currency} amounts have at most {exponent} decimal places.")
    minor = int(match.group("whole")) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor == 0 and not allow_zero:
        raise MoneyError("Amount must be greater than zero.")
    if minor > MAX_MINOR:
        raise MoneyError("Amount is too large.")
    return minor


def to_decimal_string(minor: int, currency: str) -> str:
    """Minor units to the API's decimal string: 600000 USD -> "6000.00"."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{exponent}d}"


def format_money(minor: int, currency: str) -> str:
    """For people: 5000000 USD -> "$50,000"; cents shown only when there are any."""
    exponent = currency_exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    symbol = CURRENCY_SYMBOLS.get(currency)
    text = f"{whole:,}" if fraction == 0 else f"{whole:,}.{fraction:0{exponent}d}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def format_money_as_spent(minor: int, currency: str, original_minor: int, original_currency: str) -> str:
    """For people: the base amount, and the amount as spent beside it where that was another currency:
    "$133.78 (€123.45)"."""
    base = format_money(minor, currency)
    if original_currency == currency:
        return base
    return f"{base} ({format_money(original_minor, original_currency)})"


# An FX rate is the base currency's major units per one major unit of another currency, held exactly as
# NUMERIC(RATE_MAX_DIGITS, RATE_DECIMAL_PLACES): 1 VND is about 0.0000123 KWD, which keeps 7 significant
# digits at 12 places, and 1 KWD is about 81,000 VND, far below 12 integer digits.
RATE_MAX_DIGITS = 24
RATE_DECIMAL_PLACES = 12
# original minor (16 digits) x rate (24 digits) is exact within 40 significant digits; room to spare.
_CONVERSION_PRECISION = 60


def convert_minor(original_minor: int, original_currency: str, rate: Decimal, base_currency: str) -> int:
    """An amount in minor units of `original_currency` in minor units of `base_currency` at `rate`.

    The exact product original x rate x 10^(base exponent - original exponent), rounded half-even
    once, to the base currency's minor unit: 1,000 JPY at 0.006543 USD is 6.543 USD, 654 cents.
    """
    shift = currency_exponent(base_currency) - currency_exponent(original_currency)
    with localcontext() as context:
        context.prec = _CONVERSION_PRECISION
        exact = (Decimal(original_minor) * rate).scaleb(shift)
        return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def rate_text(rate: Decimal) -> str:
    """A rate as the API writes it: plain decimal, no trailing zeros ("0.92", "1", "150.5")."""
    return format(rate.normalize(), "f")


def fx_representation(
    *, original_amount_minor: int, original_currency: str, fx_rate: Decimal, fx_rate_date: date | None
) -> dict:
    """A transaction's amount as spent and the rate that converted it, as the API and webhooks show them."""
    return {
        "original_amount": to_decimal_string(original_amount_minor, original_currency),
        "original_currency": original_currency,
        "fx_rate": rate_text(fx_rate),
        "fx_rate_date": fx_rate_date.isoformat() if fx_rate_date else None,
    }
