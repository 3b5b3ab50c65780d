"""Reading a receipt's text: the total, its currency, the date and the merchant.

Works on the lines Tesseract read (apps/receipts/reading.py) or on plain text, so every rule here is
tested without an image. No library parses receipts from OCR text (price parsers find one number in
a string, date parsers guess one date), so the rules are ours: they choose among many candidates by
the words around them, which is what a receipt needs.

Amounts are parsed into digit strings and then into integer minor units of the currency
(ledgerx/money.py); no float is involved.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from ledgerx.money import CURRENCY_EXPONENTS


@dataclass(frozen=True)
class TextLine:
    text: str
    # Tesseract's mean word confidence (0-100) and the line's text height in pixels, when read from an image.
    confidence: float | None = None
    height: float | None = None


@dataclass(frozen=True)
class Amount:
    """An amount as printed, without its separators: "1.234,56" is whole "1234", fraction "56"."""

    whole: str
    fraction: str
    negative: bool = False

    @property
    def decimal(self) -> str:
        return f"{self.whole}.{self.fraction}" if self.fraction else self.whole

    def minor(self, exponent: int) -> int | None:
        """In minor units of a currency with this exponent; None when it has more decimals than that."""
        extra = self.fraction[exponent:]
        if extra.strip("0"):
            return None
        fraction = self.fraction[:exponent].ljust(exponent, "0")
        return int(self.whole) * 10**exponent + int(fraction or "0")


@dataclass(frozen=True)
class Found:
    """A field read from one line, with how sure the rule that found it is (0-1)."""

    value: object
    certainty: float
    line: TextLine

    @property
    def confidence(self) -> float:
        """The rule's certainty times Tesseract's confidence in the line's words."""
        ocr = 1.0 if self.line.confidence is None else max(0.0, min(self.line.confidence, 100.0)) / 100
        return round(self.certainty * ocr, 2)


def lines_of(text: str) -> list[TextLine]:
    return [TextLine(line.strip()) for line in text.splitlines() if line.strip()]


# --- currencies and amounts ----------------------------------------------------------------------

_PREFIXED_DOLLARS = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD", "NZ$": "NZD",
                     "HK$": "HKD", "S$": "SGD", "R$": "BRL"}
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "円": "JPY", "₹": "INR", "$": "USD"}
_CODES = re.compile(r"(?<![A-Za-z])(" + "|".join(CURRENCY_EXPONENTS) + r")(?![A-Za-z])")
_SYMBOL = re.compile(
    "|".join(re.escape(symbol) for symbol in sorted([*_PREFIXED_DOLLARS, *_SYMBOLS], key=len, reverse=True))
)
_CODE_BEFORE_DIGIT = re.compile(r"(?<![A-Za-z])(" + "|".join(CURRENCY_EXPONENTS) + r")(?=\d)")
_SWISS_FRANCS = re.compile(r"(?<![A-Za-z])(sfr|fr)\.\s*\d")


# A number grouped in thousands (by , . ' or a space) with optional decimals, or a plain one.
_NUMBER = re.compile(
    r"(?<![\w.,'/:])"
    r"(?P<number>\d{1,3}(?P<group>[,.' \u00a0])\d{3}(?:(?P=group)\d{3})*(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?)"
    r"(?![\w%/:]|[.,']\d)"
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")


def amounts_in(text: str, *, exponent: int | None = None) -> list[Amount]:
    """The amounts in a line, left to right. Dates and times are not amounts.

    A separator followed by three digits groups thousands ("1,234" is 1234) unless the currency has
    three decimals and it is the only separator; a last separator followed by one or two digits is
    the decimal point ("1.234,56", "1,234.56", "1 234,56", "1'234.50"). A space groups thousands only
    before a decimal comma, where the French write it; elsewhere "2 120.00" is a count and a price.
    """
    text = _CODE_BEFORE_DIGIT.sub(r"\1 ", _TIME.sub(" ", _remove_dates(text)))
    found = []
    for match in _NUMBER.finditer(text):
        number, group = match.group("number"), match.group("group")
        negative = text[: match.start()].rstrip(" $€£¥").endswith("-")
        if group in (" ", "\u00a0") and not re.search(r",\d{2}$", number):
            *counts, number = number.split(group)
            found += [Amount(whole=count.lstrip("0") or "0", fraction="") for count in counts]
            group = None
        found.append(_split(number, group, exponent, negative))
    return found


def _split(number: str, group: str | None, exponent: int | None, negative: bool) -> Amount:
    decimal_match = re.search(r"[.,](\d{1,3})$", number)
    fraction = ""
    if decimal_match:
        digits = decimal_match.group(1)
        separator = number[decimal_match.start()]
        only_separator = not re.search(r"[^\d]", number[: decimal_match.start()])
        is_grouping = len(digits) == 3 and not (exponent == 3 and (only_separator or separator != group))
        if not is_grouping:
            fraction, number = digits, number[: decimal_match.start()]
    return Amount(whole=re.sub(r"\D", "", number).lstrip("0") or "0", fraction=fraction, negative=negative)


def currencies_in(text: str) -> list[str]:
    """The currencies a line names, by ISO code or symbol, in order."""
    found = [(match.start(), match.group(1)) for match in _CODES.finditer(text)]
    for match in _SYMBOL.finditer(text):
        symbol = match.group(0)
        found.append((match.start(), _PREFIXED_DOLLARS.get(symbol) or _SYMBOLS[symbol]))
    found += [(match.start(), "CHF") for match in _SWISS_FRANCS.finditer(text.lower())]
    return [currency for _, currency in sorted(found)]


def find_currency(lines: list[TextLine], total_line: TextLine | None) -> Found | None:
    """The total line's currency; else the code named most often; else the symbol used most often."""
    if total_line is not None and (on_total := currencies_in(total_line.text)):
        return Found(on_total[-1], 0.95, total_line)
    for pattern, certainty in ((_CODES, 0.85), (_SYMBOL, 0.7)):
        counts: dict[str, int] = {}
        first_line: dict[str, TextLine] = {}
        for line in lines:
            for match in pattern.finditer(line.text):
                symbol = match.group(0)
                currency = _PREFIXED_DOLLARS.get(symbol) or _SYMBOLS.get(symbol) or symbol
                counts[currency] = counts.get(currency, 0) + 1
                first_line.setdefault(currency, line)
        if counts:
            currency = max(counts, key=counts.__getitem__)
            return Found(currency, certainty, first_line[currency])
    return None


# --- the total -------------------------------------------------------------------------------------

_TOTAL = r"t[o0]ta[l1i|]"
# The lines that name what was paid in all, strongest first; "total" alone comes after these.
_TOTAL_LABELS = [
    (re.compile(rf"grand\s*{_TOTAL}|{_TOTAL}\s*(due|to\s*pay|paid|charged|ttc|payable|amount|eur|usd|gbp|chf|jpy)"
                r"|amount\s*(due|paid|payable)|balance\s*due|gesamtbetrag|zu\s*zahlen|montant\s*(ttc|total|d[uû])"
                r"|importe\s*total|totale|\bsumme\b|\bgesamt\b|net\s*[àa]\s*payer|[àa]\s*payer"), 3),
    (re.compile(rf"{_TOTAL}|\bamount\b|\bbetrag\b"), 2),
]
# A "total" of something else: before tax or tip, the tax itself, a count, the change given, a payment.
_NOT_TOTAL = re.compile(
    rf"sub\s*-?\s*{_TOTAL}|zwischensumme|sous[\s-]*{_TOTAL}|\bht\b|\bnet\b(?!\s*[àa]\s*payer)|netto|excl|exkl|\btax\b|\bvat\b|\btva\b"
    r"|mwst|\bust\b|\biva\b|\btip\b|gratuity|trinkgeld|pourboire|service\s*charge|\bitems?\b|\bqty\b|savings"
    r"|discount|rabatt|change|cash|tendered|r[uü]ckgeld|\bbar\b|payments?\b|deposit|points|before|rounding"
)
_TIP = re.compile(r"\btip\b|gratuity|trinkgeld|pourboire")
# "Total incl. VAT" is the total, not the tax.
_INCLUDED_TAX = re.compile(r"(incl\.?|inkl\.?|including|included|tax\s*incl\.?|ttc)\s*(\w+\.?)?")


def total_label_strength(text: str) -> int:
    """3 for a label that names the amount paid, 2 for a plain total, 0 for anything else."""
    if _NOT_TOTAL.search(_INCLUDED_TAX.sub(" ", text.lower())):
        return 0
    return next((strength for pattern, strength in _TOTAL_LABELS if pattern.search(text.lower())), 0)


def find_total(lines: list[TextLine], *, exponent: int | None = None) -> Found | None:
    """The amount on the strongest total line, the lowest of equals; a total below a tip line wins
    over those above it (they are before the tip). A label whose amount is on the next line takes
    that line's. Without any label, the largest amount with decimals in the bottom half, less surely."""
    candidates: list[tuple[int, int, Found]] = []
    tip_index = -1
    for index, line in enumerate(lines):
        if _TIP.search(line.text.lower()) and _payable(amounts_in(line.text, exponent=exponent)):
            tip_index = index
        strength = total_label_strength(line.text)
        if not strength:
            continue
        amount_line = line
        amounts = _payable(amounts_in(line.text, exponent=exponent))
        if not amounts and index + 1 < len(lines) and _is_bare_amount(lines[index + 1].text):
            amount_line = lines[index + 1]
            amounts = _payable(amounts_in(amount_line.text, exponent=exponent))
        if amounts:
            candidates.append((strength, index, Found(amounts[-1], 0.95 if strength == 3 else 0.85, amount_line)))
    after_tip = [candidate for candidate in candidates if candidate[1] > tip_index]
    if after_tip or candidates:
        return max(after_tip or candidates, key=lambda candidate: candidate[:2])[2]
    bottom = lines[len(lines) // 2 :]
    fallback = [
        (amount, line)
        for line in bottom
        if not re.search(r"change|cash|tendered|r[uü]ckgeld", line.text.lower())
        for amount in _payable(amounts_in(line.text, exponent=exponent))
        if amount.fraction or exponent == 0
    ]
    if not fallback:
        return None
    amount, line = max(fallback, key=lambda candidate: int(candidate[0].whole + candidate[0].fraction.ljust(3, "0")))
    return Found(amount, 0.4, line)


def _payable(amounts: list[Amount]) -> list[Amount]:
    """The amounts that could be a total: not a payment's minus, not zero."""
    return [
        amount
        for amount in amounts
        if not amount.negative and (amount.whole.strip("0") or amount.fraction.strip("0"))
    ]


def _is_bare_amount(text: str) -> bool:
    """A line holding an amount and at most a currency: the value of a label on the line above."""
    rest = _SYMBOL.sub("", _CODES.sub("", text))
    return bool(re.fullmatch(r"[\s\d.,'\u00a0:*-]+", rest)) and bool(amounts_in(text))


# --- dates -----------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "fév": 2, "fev": 2, "mar": 3, "mär": 3, "mrz": 3, "apr": 4, "avr": 4, "may": 5,
    "mai": 5, "jun": 6, "jui": 6, "jul": 7, "aug": 8, "aoû": 8, "aou": 8, "sep": 9, "oct": 10, "okt": 10,
    "nov": 11, "dec": 12, "déc": 12, "dez": 12,
}  # fmt: skip
_ISO = re.compile(r"(?<!\d)(20\d{2})\s?([-/.])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d.,])(\d{1,2})\s?([/.-])\s?(\d{1,2})\s?\2\s?(20\d{2}|\d{2})(?![\d,]|\.\d)")
_MONTH_WORD = r"([A-Za-zÀ-ÿ]{3,9})\.?"
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\.?[\s-]*{_MONTH_WORD}[\s,-]*'?(20\d{{2}}|\d{{2}})(?!\d)"
)
_MONTH_DAY_YEAR = re.compile(rf"{_MONTH_WORD}\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*'?(20\d{{2}})(?!\d)")
# The date a receipt is dated by is labelled so; departure ends a hotel stay; a due or arrival date is another date.
_DATE_LABEL = re.compile(r"\bdate\b|datum|dated|issued|fecha|\bdata\b|rechnungsdatum")
_END_LABEL = re.compile(r"departure|check[\s-]*out|abreise|d[ée]part")
_OTHER_DATE = re.compile(r"\bdue\b|f[äa]llig|arrival|check[\s-]*in|ankunft|arriv[ée]e|\bexp|valid|expires|since")


def dates_in(text: str, *, month_first: bool = False) -> list[date]:
    """The dates in a line. "03/11/2026" is ambiguous: a part over 12 is the day; otherwise the day
    comes first (most of the world, and every dotted date), or the month when `month_first` (the
    United States, told by the receipt's dollars)."""
    return [found for _, _, found in _date_matches(text, month_first)]


def _remove_dates(text: str) -> str:
    for start, end, _ in reversed(_date_matches(text, False)):
        text = text[:start] + " " + text[end:]
    return text


def _date_matches(text: str, month_first: bool) -> list[tuple[int, int, date]]:
    """Each valid date with where it stands; a span read as one date is not read again as another."""
    found: list[tuple[int, int, date]] = []

    def add(start: int, end: int, year: int, month: int, day: int) -> None:
        if any(start < taken_end and taken_start < end for taken_start, taken_end, _ in found):
            return
        try:
            found.append((start, end, date(year + 2000 if year < 100 else year, month, day)))
        except ValueError:
            return

    for match in _ISO.finditer(text):
        add(match.start(), match.end(), int(match[1]), int(match[3]), int(match[4]))
    for match in _NUMERIC.finditer(text):
        first, separator, second, year = int(match[1]), match[2], int(match[3]), int(match[4])
        day_first = separator == "." or first > 12 or (second <= 12 and not month_first)
        day, month = (first, second) if day_first else (second, first)
        add(match.start(), match.end(), year, month, day)
    for match in _DAY_MONTH_YEAR.finditer(text):
        if month := _month(match[2]):
            add(match.start(), match.end(), int(match[3]), month, int(match[1]))
    for match in _MONTH_DAY_YEAR.finditer(text):
        if month := _month(match[1]):
            add(match.start(), match.end(), int(match[3]), month, int(match[2]))
    return sorted(found)


def _month(word: str) -> int | None:
    return _MONTHS.get(word[:3].lower())


def find_date(lines: list[TextLine], *, month_first: bool = False) -> Found | None:
    """A date labelled as the receipt's, else a departure date, else the first unlabelled one; a due,
    arrival or expiry date only when there is nothing else."""
    best: tuple[int, Found] | None = None
    for line in lines:
        found = dates_in(line.text, month_first=month_first)
        if not found:
            continue
        label = line.text.lower()
        if _OTHER_DATE.search(label):
            rank, certainty = 0, 0.5
        elif _DATE_LABEL.search(label):
            rank, certainty = 3, 0.95
        elif _END_LABEL.search(label):
            rank, certainty = 2, 0.85
        else:
            rank, certainty = 1, 0.75
        if best is None or rank > best[0]:
            best = (rank, Found(found[0], certainty, line))
    return best[1] if best else None


# --- the merchant ----------------------------------------------------------------------------------

_NOT_MERCHANT = re.compile(
    r"\d+\s*[\w.'-]+\s.*\b(st|street|ave|avenue|road|rd|blvd|boulevard|lane|ln|drive|dr|way|place|pl|square|sq"
    r"|stra(ss|ß)e|str|platz|weg|gasse|allee|rue|av|via|viale|piazza|corso|calle|chome|cho)\b\.?"
    r"|\b(tel|phone|fax|telefon|t[ée]l)\b|\+\d|\(\d{3}\)|\d{3}[-. ]\d{3,4}[-. ]\d{3,4}"
    r"|www\.|https?:|\.(com|de|fr|co\.uk|ch|jp|it|net|org)\b|@"
    r"|\b(vat|tax\s*id|ust|siret|tva|abn|gst|reg|invoice|rechnung|facture|receipt|quittung|beleg|folio|table"
    r"|tisch|server|cashier|kasse|order|check|guest|room|store\s*#|terminal|trans|page|copy|thank|danke|merci"
    r"|description|qty|quantity|unit\s*price)\b"
    r"|\b\d{4,5}\s+[A-Za-zÀ-ÿ]+|\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b[A-Z]{2}\s+\d{5}\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\s*(welcome\s+to|willkommen\s+(bei|im)|bienvenue\s+(chez|à))\b\s*", re.IGNORECASE)
# How many of the receipt's first lines may hold its name.
_MERCHANT_LINES = 6


def is_merchant_like(text: str) -> bool:
    letters = sum(character.isalpha() for character in text)
    visible = sum(not character.isspace() for character in text)
    return (
        letters >= 3
        and letters >= 0.6 * visible
        and not _NOT_MERCHANT.search(text)
        and not dates_in(text)
        and not any(amount.fraction for amount in amounts_in(text))
    )


def find_merchant(lines: list[TextLine]) -> Found | None:
    """The most prominent of the first lines that is not an address, a phone number, a date or a
    heading such as "INVOICE": the tallest when heights are known (a name is printed larger), else the
    first."""
    candidates = [
        TextLine(_GREETING.sub("", line.text).strip(" .,:;-*=_|"), line.confidence, line.height)
        for line in lines[:_MERCHANT_LINES]
        if is_merchant_like(_GREETING.sub("", line.text))
    ]
    if not candidates:
        return None
    heights = [line.height for line in lines if line.height]
    if heights and all(line.height for line in candidates):
        typical = sorted(heights)[len(heights) // 2]
        tallest = max(candidates, key=lambda line: line.height or 0)
        if (tallest.height or 0) >= 1.15 * typical:
            return Found(tallest.text, 0.9, tallest)
    return Found(candidates[0].text, 0.7, candidates[0])


def normalized_name(name: str) -> str:
    """For comparing names: no accents, case, punctuation or spacing ("Café  de l'Ouest" -> "cafedelouest")."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(character for character in decomposed.casefold() if character.isalnum() and character.isascii())
