"""Receipt reading: the parsing rules on text, Tesseract end to end on generated receipts, and the
rules that flag a receipt that disagrees with its spend."""

import shutil
from datetime import date

import pytesseract
import pytest

from apps.receipts.reading import ReadingMismatch, ReadingUnavailable, read_receipt, reading_mismatches, reading_of
from apps.receipts.reading_parse import (
    Amount,
    TextLine,
    amounts_in,
    currencies_in,
    dates_in,
    find_date,
    find_merchant,
    find_total,
    lines_of,
    normalized_name,
)


@pytest.mark.parametrize(
    ("text", "exponent", "expected"),
    [
        ("TOTAL $1,234.56", None, Amount("1234", "56")),
        ("Summe 1.234,56 €", None, Amount("1234", "56")),
        ("Total TTC 1 234,56 EUR", None, Amount("1234", "56")),
        ("CHF 1'234.50", None, Amount("1234", "50")),
        ("Summe CHF197.75", None, Amount("197", "75")),
        ("TOTAL ¥3,480", None, Amount("3480", "")),
        ("Gesamt 12,50", None, Amount("12", "50")),
        ("KWD 12.500", 3, Amount("12", "500")),
        ("KWD 1,212.500", 3, Amount("1212", "500")),
        ("Payment -512.00", None, Amount("512", "00", negative=True)),
    ],
)
def test_an_amount_is_read_in_each_way_it_is_written(text, exponent, expected):
    assert amounts_in(text, exponent=exponent)[-1] == expected


def test_percentages_times_and_dates_are_not_amounts():
    assert amounts_in("VAT 20% 14:32 03/11/2026 2026-11-03 12.00") == [Amount("12", "00")]


def test_a_space_groups_thousands_only_before_a_decimal_comma():
    assert amounts_in("2 120.00") == [Amount("2", ""), Amount("120", "00")]


@pytest.mark.parametrize(
    ("amount", "exponent", "minor"),
    [(Amount("1234", "56"), 2, 123456), (Amount("3480", ""), 0, 3480), (Amount("12", "5"), 2, 1250),
     (Amount("12", "500"), 3, 12500), (Amount("12", "00"), 0, 12), (Amount("12", "50"), 0, None)],
)  # fmt: skip
def test_an_amount_becomes_integer_minor_units_of_its_currency(amount, exponent, minor):
    assert amount.minor(exponent) == minor


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$12.00", ["USD"]), ("12,00 €", ["EUR"]), ("£4.50", ["GBP"]), ("¥3,480", ["JPY"]), ("TOTAL CHF 12.50", ["CHF"]),
     ("US$ 5.00", ["USD"]), ("A$5.00", ["AUD"]), ("EUR 12,00", ["EUR"]), ("Fr. 12.50", ["CHF"]), ("EUROPA 12", [])],
)  # fmt: skip
def test_a_currency_is_read_from_its_code_or_symbol(text, expected):
    assert currencies_in(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-11-03", "2026/11/03", "03.11.2026", "3.11.26", "03/11/2026", "3 Nov 2026", "Nov 3, 2026",
     "November 3rd, 2026", "03-NOV-26", "Datum: 3. November 2026 14:22"],
)  # fmt: skip
def test_a_date_is_read_in_each_format(text):
    assert dates_in(text) == [date(2026, 11, 3)]


def test_an_ambiguous_date_is_day_first_unless_the_receipt_is_in_dollars():
    assert dates_in("03/11/2026") == [date(2026, 11, 3)]
    assert dates_in("11/03/2026", month_first=True) == [date(2026, 11, 3)]
    # A part over 12 can only be the day, and a dotted date is always day first.
    assert dates_in("13/03/2026", month_first=True) == [date(2026, 3, 13)]
    assert dates_in("03.11.2026", month_first=True) == [date(2026, 11, 3)]


def test_an_impossible_date_is_not_a_date():
    assert dates_in("31/02/2026") == []


def test_the_total_is_preferred_to_the_subtotal_and_the_tax():
    found = find_total(lines_of("Subtotal 40.00\nTax 3.55\nTOTAL 43.55\nCash 50.00\nChange 6.45"))
    assert found.value == Amount("43", "55")
    assert found.certainty > 0.8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Total HT 100,00\nTVA 20% 20,00\nTOTAL TTC 120,00", Amount("120", "00")),
        ("Zwischensumme 10,00\nSumme 11,90 EUR", Amount("11", "90")),
        ("Total HT 10,00\nNet à payer 12,00 €\nEspèces 20,00", Amount("12", "00")),
        ("Total 50.00\nTotal incl. VAT 60.00\nTotal items 4", Amount("60", "00")),
        ("Total charges 512.00\nPayment Visa -512.00\nBalance 0.00", Amount("512", "00")),
        ("Amount due\n£1,200.00\nThank you", Amount("1200", "00")),
    ],
)
def test_the_total_line_is_told_from_the_others(text, expected):
    assert find_total(lines_of(text)).value == expected


def test_a_total_after_the_tip_wins_over_the_one_before():
    lines = lines_of("Subtotal 193.00\nBalance Due $210.12\nTip 34.74\nTotal $244.86")
    assert find_total(lines).value == Amount("244", "86")


def test_without_a_total_label_the_largest_amount_at_the_bottom_is_taken_less_surely():
    found = find_total(lines_of("Shop\n12 Main St\nBread 2.50\nMilk 1.20\nCheese 6.10\n= 9.80\nCash 20.00"))
    assert found.value == Amount("9", "80")
    assert found.certainty < 0.5


def test_no_amount_means_no_total():
    assert find_total(lines_of("Thank you for shopping\nSee you soon")) is None


def test_the_receipts_date_is_preferred_to_a_due_date_and_a_departure_to_an_arrival():
    assert find_date(lines_of("Due date: 2026-12-01\nInvoice date: 2026-11-03")).value == date(2026, 11, 3)
    assert find_date(lines_of("Arrival: 01.11.2026\nDeparture: 03.11.2026")).value == date(2026, 11, 3)


def test_the_merchant_is_the_first_line_that_is_not_an_address_a_phone_or_a_heading():
    lines = lines_of("RECEIPT\nWelcome to\nBlue Harbor Coffee\n12 Main Street\nTel: (212) 555-0142")
    assert find_merchant(lines).value == "Blue Harbor Coffee"
    assert find_merchant(lines_of("10115 Berlin\nTel. 030 2847113\n03.11.2026")) is None


def test_the_tallest_line_at_the_top_is_the_merchant():
    lines = [TextLine("Fresh every day", 90, 30), TextLine("MAISON DUPONT", 90, 60), TextLine("Bread 2,50", 90, 30)]
    assert find_merchant(lines).value == "MAISON DUPONT"


def test_the_merchant_is_taken_from_the_header_reading_when_it_names_one():
    body = lines_of("Date Description Amount\nCrown Hotels Ltd\nRoom charge 120.00\nTotal $120.00")
    assert reading_of(body, header=lines_of("The Crown Hotel\n12 High Street")).merchant == "The Crown Hotel"
    # A table's heading is not a name.
    assert reading_of(body, header=lines_of("12 High Street")).merchant == "Crown Hotels Ltd"


def test_names_are_compared_without_case_accents_or_punctuation():
    assert normalized_name("Café  de l'Ouest") == normalized_name("CAFE DE LOUEST")


def test_a_whole_receipt_in_euros():
    reading = reading_of(
        lines_of("Bäckerei Schmidt\nHauptstraße 4\n10115 Berlin\n03.11.2026 08:12\nBrot 3,20\n"
                 "Kaffee 2 x 2,90 5,80\nSUMME 9,00 €\nincl. MwSt 7% 0,59\nBar 10,00\nRückgeld 1,00")
    )  # fmt: skip
    assert (reading.total_minor, reading.currency, reading.date, reading.merchant) == (
        900, "EUR", date(2026, 11, 3), "Bäckerei Schmidt"
    )
    assert reading.total_confidence == 0.95  # text has no OCR confidence: only the rule's
    assert reading.text_length > 0


def test_a_whole_receipt_in_yen_and_one_in_dollars_month_first():
    yen = reading_of(lines_of("Sakura Ramen\n2026/11/03 19:02\nRamen 2 1,800\nTOTAL ¥1,980\nCash ¥2,000"))
    assert (yen.total_minor, yen.currency, yen.date) == (1980, "JPY", date(2026, 11, 3))
    dollars = reading_of(lines_of("Maple Diner\n11/03/26 12:30\nSubtotal 20.00\nTax 1.78\nTotal $21.78"))
    assert (dollars.total_minor, dollars.currency, dollars.date) == (2178, "USD", date(2026, 11, 3))


def test_a_receipt_with_no_currency_keeps_the_printed_amount():
    reading = reading_of(lines_of("Corner Shop\nTotal 12.50"))
    assert (reading.total_minor, reading.total_decimal, reading.currency) == (1250, "12.50", None)


def test_nothing_found_is_none_not_a_guess():
    reading = reading_of(lines_of("~~ ## ~~"))
    assert (reading.total_minor, reading.currency, reading.date, reading.merchant) == (None, None, None, None)
    assert reading.total_confidence is None and reading.merchant_confidence is None


# --- mismatches ------------------------------------------------------------------------------------

SPEND = {"amount_minor": 10000, "currency": "USD", "spent_on": date(2026, 11, 3),
         "period_start": date(2026, 11, 1), "period_end": date(2026, 11, 30)}  # fmt: skip


def _reading(text: str):
    return reading_of(lines_of(text))


def test_a_receipt_that_agrees_with_its_spend_flags_nothing():
    assert reading_mismatches(_reading("Diner\n11/03/2026\nTotal $100.00"), **SPEND) == []


def test_an_amount_within_one_percent_is_the_same_amount():
    assert reading_mismatches(_reading("Total $101.00"), **SPEND) == []
    [mismatch] = reading_mismatches(_reading("Total $101.01"), **SPEND)
    assert mismatch == ReadingMismatch("amount_differs", "The receipt's total is $101.01; the spend is $100.")


def test_a_small_amount_may_differ_by_one_unit_of_its_currency():
    small = {**SPEND, "amount_minor": 300}
    assert reading_mismatches(_reading("Total $4.00"), **small) == []
    assert [m.code for m in reading_mismatches(_reading("Total $4.01"), **small)] == ["amount_differs"]
    assert [m.code for m in reading_mismatches(_reading("Total $3.10"), **small, tolerance_minor=5)] == [
        "amount_differs"
    ]


def test_the_tolerance_is_a_setting(settings):
    settings.RECEIPT_AMOUNT_TOLERANCE_PERCENT = 5
    assert reading_mismatches(_reading("Total $104.00"), **SPEND) == []
    assert reading_mismatches(_reading("Total $104.00"), **SPEND, tolerance_percent=1) != []


def test_another_currency_is_flagged_and_its_amount_not_compared():
    [mismatch] = reading_mismatches(_reading("Summe 250,00 €"), **SPEND)
    assert mismatch.code == "currency_differs"
    assert mismatch.message == "The receipt is in EUR; the spend is in USD."


def test_a_receipt_without_currency_is_read_in_the_spends():
    assert reading_mismatches(_reading("Total 100.00"), **SPEND) == []
    assert [m.code for m in reading_mismatches(_reading("Total 180.00"), **SPEND)] == ["amount_differs"]


def test_a_date_outside_the_period_or_far_from_the_spend_is_flagged():
    codes = [m.code for m in reading_mismatches(_reading("Date: 2026-10-20\nTotal $100.00"), **SPEND)]
    assert codes == ["date_outside_period", "date_far_from_spend"]
    codes = [m.code for m in reading_mismatches(_reading("Date: 2026-11-25\nTotal $100.00"), **SPEND)]
    assert codes == ["date_far_from_spend"]
    # The period's first and last days are in it.
    on_the_edge = {**SPEND, "spent_on": date(2026, 11, 30)}
    assert reading_mismatches(_reading("Date: 2026-11-30\nTotal $100.00"), **on_the_edge) == []


def test_a_field_not_read_disagrees_with_nothing():
    assert reading_mismatches(_reading("~~ ## ~~"), **SPEND) == []


# --- Tesseract -------------------------------------------------------------------------------------


def test_without_tesseract_reading_is_unavailable(monkeypatch):
    from PIL import Image

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(ReadingUnavailable) as raised:
        read_receipt(Image.new("RGB", (200, 100), "white"))
    assert raised.value.code == "reading_unavailable"
    assert "not installed" in raised.value.message


def _generated_clean_receipts():
    if shutil.which("tesseract") is None:
        pytest.skip("Tesseract is not installed (make tesseract, or apt-get install tesseract-ocr)")
    from bench.receipt_dataset import FontsMissing, generate

    try:
        return list(generate(6, seed=7, variants=["clean"]))
    except FontsMissing as missing:
        pytest.skip(f"The receipt fonts are missing: {missing} (make tesseract)")


def test_tesseract_reads_one_clean_receipt_of_each_layout():
    receipts = _generated_clean_receipts()
    assert sorted(receipt.layout for receipt in receipts) == sorted(
        ["till", "invoice", "restaurant", "hotel", "european", "yen"]
    )
    for receipt in receipts:
        reading = read_receipt(receipt.image)
        assert (reading.total_minor, reading.currency, reading.date) == (
            receipt.total_minor, receipt.currency, receipt.date
        ), receipt.layout  # fmt: skip
        assert normalized_name(reading.merchant) == normalized_name(receipt.merchant), receipt.layout
        assert 0 < reading.total_confidence <= 1


def test_the_generated_receipts_are_the_same_for_the_same_seed():
    from bench.receipt_dataset import FontsMissing, generate

    try:
        first, second = list(generate(3, seed=11)), list(generate(3, seed=11))
    except FontsMissing as missing:
        pytest.skip(f"The receipt fonts are missing: {missing} (make tesseract)")
    assert [r.image.tobytes() for r in first] == [r.image.tobytes() for r in second]
    assert [(r.total_minor, r.merchant) for r in first] == [(r.total_minor, r.merchant) for r in second]
