"""Money as integer minor units: parsing decimal strings and formatting for people.

No float ever touches an amount: strings are parsed by a strict pattern into integers.
"""

import re

# ISO 4217 minor-unit exponents of the currencies LedgerX accepts.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "SGD": 2,
    "HKD": 2,
    "CNY": 2,
    "ZAR": 2,
    "ILS": 2,
    "JPY": 0,
    "KRW": 0,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
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
