"""The ECB's euro foreign exchange reference rates files, read into rates against a base currency.

Two layouts, both "Date" then one column per currency, each value the currency's units per 1 EUR:
the daily file (eurofxref.csv: "Date, USD, JPY, ..." then one row dated "3 December 2026", cells
padded with spaces, a trailing comma) and the history (eurofxref-hist.csv, eurofxref-hist-90d.csv:
one row per business day dated "2026-12-03", "N/A" where a currency was not quoted).

A rate against a base other than the euro is a cross rate: base per EUR / currency per EUR, divided
with 34 significant digits and rounded half-even to the rate's 12 decimal places (RATE_DECIMAL_PLACES).
Currencies outside ISO 4217's current list (the history's CYP, SIT, ...) are left out: nobody spends them.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from ledgerx.errors import InvalidInput
from ledgerx.money import CURRENCY_EXPONENTS, RATE_DECIMAL_PLACES

_VALUE = re.compile(r"[0-9]+(\.[0-9]+)?")
_QUANTUM = Decimal(1).scaleb(-RATE_DECIMAL_PLACES)
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y")


@dataclass(frozen=True)
class EcbRate:
    currency: str
    rate_date: date
    rate: Decimal


def _refused(message: str) -> InvalidInput:
    return InvalidInput(f"Not an ECB reference rates file: {message}", fields={"file": [message]})


def _day(text: str, line: int) -> date:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise _refused(f"line {line}: '{text}' is not a date.")


def _rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused("it is not UTF-8 text.") from None
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    # The daily file ends each line with a comma: an empty last column.
    return [row[:-1] if row and row[-1] == "" else row for row in rows if any(row)]


def ecb_rates(content: bytes, *, base_currency: str) -> list[EcbRate]:
    """Every rate of the file against `base_currency`: one unit of the currency in base units."""
    rows = _rows(content)
    if not rows or rows[0][:1] != ["Date"] or len(rows[0]) < 2:
        raise _refused('the first line must be "Date" followed by currency codes.')
    if len(rows) < 2:
        raise _refused("it has no rates.")
    header = rows[0][1:]
    if len(set(header)) != len(header) or any(not re.fullmatch("[A-Z]{3}", code) for code in header):
        raise _refused("its header must name each currency once by its three-letter code.")
    if base_currency != "EUR" and base_currency not in header:
        raise _refused(f"it quotes no rate for {base_currency}, this organization's base currency.")
    rates: list[EcbRate] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) + 1:
            raise _refused(f"line {line} has {len(row) - 1} rates for {len(header)} currencies.")
        day = _day(row[0], line)
        per_euro: dict[str, Decimal] = {"EUR": Decimal(1)}
        for code, cell in zip(header, row[1:], strict=True):
            if cell in ("", "N/A"):
                continue
            if not _VALUE.fullmatch(cell) or Decimal(cell) == 0:
                raise _refused(f"line {line}: '{cell}' is not a rate for {code}.")
            per_euro[code] = Decimal(cell)
        base_per_euro = per_euro.get(base_currency)
        if base_per_euro is None:
            continue  # the base was not quoted that day: no cross rate can be made
        for code, currency_per_euro in per_euro.items():
            if code == base_currency or code not in CURRENCY_EXPONENTS:
                continue
            with localcontext() as context:
                context.prec = 34
                rate = (base_per_euro / currency_per_euro).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
            if rate == 0:
                raise _refused(f"line {line}: 1 {code} is worth less than {_QUANTUM} {base_currency}.")
            rates.append(EcbRate(code, day, rate))
    return rates
