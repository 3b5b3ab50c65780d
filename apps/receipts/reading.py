"""Reading a receipt image on this machine, and what in the reading disagrees with the spend.

Tesseract (Debian's `tesseract-ocr`, through pytesseract) reads the image in a subprocess; nothing
is sent anywhere. The text is parsed by apps/receipts/reading_parse.py. A reading only informs: its
mismatches are flags for a person, and nothing here blocks or changes a spend.
"""

from dataclasses import dataclass
from datetime import date

import pytesseract
from django.conf import settings
from PIL import Image, ImageFilter, ImageOps

from apps.receipts import reading_parse as parse
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, currency_exponent, format_money, parse_amount

# Tesseract reads best with capital letters 30-40 px tall; a phone photo or a scan at 150 dpi is
# upscaled to about this width first (a till slip is narrow, so it gains most).
TARGET_WIDTH_PX = 1600
# Two readings, measured on the generated receipts (bench/receipt_reading.py). The body is read as
# one uniform block (psm 6), which keeps each label with its amount however far apart; one column of
# varying sizes (psm 4) cut lines short at the edge of a ruled line printed narrower than the text.
# The header, where the merchant's name is printed large, is read with psm 4, which reads large
# lines that psm 6 garbles. Threshold 2 is Sauvola's, which binarizes each neighbourhood by its own
# light: a photo lit unevenly, which one global (Otsu) threshold turns half black, is read.
BODY_CONFIG = "--psm 6 -c thresholding_method=2"
HEADER_CONFIG = "--psm 4 -c thresholding_method=2"
# The part of the receipt, from the top, read for the merchant's name.
HEADER_SHARE = 0.4
TESSERACT_TIMEOUT_SECONDS = 60


class ReadingUnavailable(LedgerXError):
    """Tesseract is missing or could not read the image: the receipt is kept, its reading is not."""

    status = 503
    code = "reading_unavailable"


@dataclass(frozen=True)
class ReceiptReading:
    """What was read; each field None when not found, with a confidence from 0 to 1 when found.

    `total_minor` is in minor units of `currency`; with no currency found, in the decimals the
    receipt printed, and `total_decimal` ("1234.56") lets a caller read it in the spend's currency.
    """

    total_minor: int | None
    total_decimal: str | None
    currency: str | None
    date: date | None
    merchant: str | None
    total_confidence: float | None
    currency_confidence: float | None
    date_confidence: float | None
    merchant_confidence: float | None
    text_length: int


@dataclass(frozen=True)
class ReadingMismatch:
    code: str
    message: str


def read_receipt(image: Image.Image) -> ReceiptReading:
    """Tesseract's reading of a receipt image, parsed. Raises ReadingUnavailable without Tesseract."""
    image = prepared(image)
    header = image.crop((0, 0, image.width, max(1, round(image.height * HEADER_SHARE))))
    return reading_of(ocr_lines(image, BODY_CONFIG), header=ocr_lines(header, HEADER_CONFIG))


def prepared(image: Image.Image) -> Image.Image:
    """Grey, upright as the camera meant, specks removed, small images upscaled, contrast stretched.

    The specks go before upscaling, while they are a pixel wide. Binarizing is left to Tesseract
    (BODY_CONFIG): a global threshold of our own read the generated set worse.
    """
    grey = ImageOps.exif_transpose(image).convert("L").filter(ImageFilter.MedianFilter(3))
    if grey.width < TARGET_WIDTH_PX:
        scale = TARGET_WIDTH_PX / grey.width
        grey = grey.resize((TARGET_WIDTH_PX, round(grey.height * scale)), Image.Resampling.LANCZOS)
    return ImageOps.autocontrast(grey, cutoff=1)


def ocr_lines(image: Image.Image, config: str) -> list[parse.TextLine]:
    """Tesseract's lines in reading order, each with its words' mean confidence and median height."""
    try:
        data = pytesseract.image_to_data(
            image,
            lang="eng",
            config=config,
            output_type=pytesseract.Output.DICT,
            timeout=TESSERACT_TIMEOUT_SECONDS,
        )
    except pytesseract.TesseractNotFoundError:
        raise ReadingUnavailable("Tesseract is not installed (Debian: apt-get install tesseract-ocr).") from None
    except (pytesseract.TesseractError, RuntimeError) as error:
        # RuntimeError is pytesseract's timeout.
        raise ReadingUnavailable(f"Tesseract could not read the image: {error}") from None
    words: dict[tuple[int, int, int], list[tuple[str, float, int]]] = {}
    for index, text in enumerate(data["text"]):
        confidence = float(data["conf"][index])
        if text.strip() and confidence >= 0:
            key = (data["block_num"][index], data["par_num"][index], data["line_num"][index])
            words.setdefault(key, []).append((text, confidence, data["height"][index]))
    lines = []
    for line_words in words.values():
        heights = sorted(height for _, _, height in line_words)
        lines.append(
            parse.TextLine(
                text=" ".join(text for text, _, _ in line_words),
                confidence=sum(confidence for _, confidence, _ in line_words) / len(line_words),
                height=heights[len(heights) // 2],
            )
        )
    return lines


def reading_of(lines: list[parse.TextLine], *, header: list[parse.TextLine] | None = None) -> ReceiptReading:
    """The fields found in a receipt's lines (read from an image, or from text in tests); the merchant
    from the `header`'s lines when it names one, else from the receipt's."""
    total = parse.find_total(lines)
    currency = parse.find_currency(lines, total.line if total else None)
    exponent = _exponent(currency.value) if currency else None
    if exponent == 3 and total:
        # "12.500" is a three-decimal amount only once the currency says so.
        total = parse.find_total(lines, exponent=exponent)
    total_minor = None
    if total is not None:
        amount: parse.Amount = total.value
        total_minor = amount.minor(exponent) if exponent is not None else None
        if total_minor is None:
            # No currency, or one whose minor units the printed amount does not fit (then the
            # currency was misread): the amount as printed.
            currency = None
            total_minor = amount.minor(len(amount.fraction))
    month_first = currency is not None and currency.value == "USD"
    found_date = parse.find_date(lines, month_first=month_first)
    merchant = (parse.find_merchant(header) if header else None) or parse.find_merchant(lines)
    return ReceiptReading(
        total_minor=total_minor,
        total_decimal=total.value.decimal if total else None,
        currency=currency.value if currency else None,
        date=found_date.value if found_date else None,
        merchant=merchant.value if merchant else None,
        total_confidence=total.confidence if total else None,
        currency_confidence=currency.confidence if currency else None,
        date_confidence=found_date.confidence if found_date else None,
        merchant_confidence=merchant.confidence if merchant else None,
        text_length=sum(len(line.text) + 1 for line in lines),
    )


def _exponent(currency: str) -> int | None:
    try:
        return currency_exponent(currency)
    except MoneyError:
        return None


def reading_mismatches(
    reading: ReceiptReading,
    *,
    amount_minor: int,
    currency: str,
    spent_on: date,
    period_start: date,
    period_end: date,
    tolerance_percent: int | None = None,
    tolerance_minor: int | None = None,
    date_tolerance_days: int | None = None,
) -> list[ReadingMismatch]:
    """Where the receipt disagrees with the spend: a different amount (by more than the larger of
    `tolerance_percent` of the spend and `tolerance_minor`, by default one unit of its currency, so
    that a receipt rounded to the unit is not flagged), a different currency, a date
    outside the period (inclusive) or further than `date_tolerance_days` from the spend. A field
    that was not read disagrees with nothing. Flags for a person; nothing is refused."""
    if tolerance_percent is None:
        tolerance_percent = settings.RECEIPT_AMOUNT_TOLERANCE_PERCENT
    if date_tolerance_days is None:
        date_tolerance_days = settings.RECEIPT_DATE_TOLERANCE_DAYS
    mismatches = []
    if reading.currency is not None and reading.currency != currency:
        mismatches.append(
            ReadingMismatch(
                "currency_differs", f"The receipt is in {reading.currency}; the spend is in {currency}."
            )
        )
    else:
        receipt_minor = _receipt_minor(reading, currency)
        if tolerance_minor is None:
            tolerance_minor = 10 ** currency_exponent(currency)
        tolerance = max(amount_minor * tolerance_percent // 100, tolerance_minor)
        if receipt_minor is not None and abs(receipt_minor - amount_minor) > tolerance:
            mismatches.append(
                ReadingMismatch(
                    "amount_differs",
                    f"The receipt's total is {format_money(receipt_minor, currency)}; the spend is "
                    f"{format_money(amount_minor, currency)}.",
                )
            )
    if reading.date is not None:
        if not period_start <= reading.date <= period_end:
            mismatches.append(
                ReadingMismatch(
                    "date_outside_period",
                    f"The receipt is dated {reading.date.isoformat()}, outside the period "
                    f"{period_start.isoformat()} to {period_end.isoformat()}.",
                )
            )
        if abs((reading.date - spent_on).days) > date_tolerance_days:
            mismatches.append(
                ReadingMismatch(
                    "date_far_from_spend",
                    f"The receipt is dated {reading.date.isoformat()}, {abs((reading.date - spent_on).days)} "
                    f"days from the spend on {spent_on.isoformat()}.",
                )
            )
    return mismatches


def _receipt_minor(reading: ReceiptReading, currency: str) -> int | None:
    """The receipt's total in the spend's currency: as read, or, with no currency read, the printed
    amount taken in the spend's (None when it has more decimals than that currency has)."""
    if reading.currency is not None:
        return reading.total_minor
    if reading.total_decimal is None:
        return None
    try:
        return parse_amount(reading.total_decimal, currency, allow_zero=True)
    except MoneyError:
        return None
