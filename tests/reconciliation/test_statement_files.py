"""Reading statement files: CSV through a source's mapping, OFX through ofxtools; bad rows named."""

from datetime import date

import pytest

from apps.reconciliation.models import StatementSource
from apps.reconciliation.statement_files import statement_parse
from ledgerx.errors import InvalidInput
from tests.reconciliation.statements import csv_bytes, ofx_document


def source(**mapping) -> StatementSource:
    fields = {
        "name": "Card",
        "kind": StatementSource.Kind.CARD,
        "currency": "USD",
        "date_column": "Date",
        "amount_column": "Amount",
        "description_column": "Description",
        "reference_column": "Reference",
        **mapping,
    }
    return StatementSource(**fields)


def parse(content: bytes, name: str = "statement.csv", **mapping):
    return statement_parse(source=source(**mapping), file_name=name, content=content)


def refusal(content: bytes, name: str = "statement.csv", **mapping) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse(content, name, **mapping)
    return caught.value


def test_a_csv_is_read_through_the_mapping_into_minor_units_charges_positive():
    content = csv_bytes([("2026-06-02", "12.50", "AMZN MKTP US", "R1"), ("2026-06-03", "-3.00", "REFUND", "")])
    statement = parse(content)
    assert statement.currency == "USD" and statement.file_format == "csv"
    assert [
        (line.position, line.posted_on, line.amount_minor, line.description, line.reference) for line in statement.lines
    ] == [(2, date(2026, 6, 2), 1250, "AMZN MKTP US", "R1"), (3, date(2026, 6, 3), -300, "REFUND", "")]


def test_a_european_file_charges_negative_comma_decimals_and_day_first_dates():
    content = b"Datum;Betrag;Text\n02.06.2026;-1.234,50;HOTEL\n03.06.2026;10,00;GUTSCHRIFT\n"
    statement = parse(
        content,
        date_column="Datum",
        amount_column="Betrag",
        description_column="Text",
        reference_column="",
        date_format="%d.%m.%Y",
        decimal_separator=",",
        sign_convention=StatementSource.SignConvention.CHARGES_NEGATIVE,
        delimiter=";",
        currency="EUR",
    )
    assert [(line.posted_on, line.amount_minor) for line in statement.lines] == [
        (date(2026, 6, 2), 123450),
        (date(2026, 6, 3), -1000),
    ]


def test_a_debit_and_credit_pair_of_columns():
    header = ("Date", "Debit", "Credit", "Description")
    content = csv_bytes([("2026-06-02", "5.00", "", "UBER"), ("2026-06-03", "", "2.00", "REFUND")], header)
    statement = parse(content, amount_column="", debit_column="Debit", credit_column="Credit", reference_column="")
    assert [line.amount_minor for line in statement.lines] == [500, -200]


def test_a_row_with_both_debit_and_credit_is_named():
    header = ("Date", "Debit", "Credit", "Description")
    error = refusal(
        csv_bytes([("2026-06-02", "5.00", "1.00", "UBER")], header),
        amount_column="",
        debit_column="Debit",
        credit_column="Credit",
        reference_column="",
    )
    assert error.fields == {"file": ["Row 2, columns 'Debit' and 'Credit': exactly one of the two holds an amount."]}


def test_a_missing_mapped_column_is_named_with_the_header_found():
    error = refusal(csv_bytes([("2026-06-02", "5.00", "UBER")], ("Date", "Value", "Description")), reference_column="")
    assert "no column 'Amount'" in error.message and "Date, Value, Description" in error.message


def test_every_bad_row_is_named_by_row_and_column():
    content = csv_bytes(
        [
            ("2026-06-02", "5.00", "UBER", ""),
            ("06/03/2026", "5.00", "UBER", ""),
            ("2026-06-04", "five", "UBER", ""),
            ("2026-06-05", "5.001", "UBER", ""),
            ("2026-06-06", "0.00", "UBER", ""),
            ("2026-06-07", "5.00", "", ""),
        ]
    )
    error = refusal(content)
    assert error.fields["file"] == [
        "Row 3, column 'Date': '06/03/2026' is not a date in the format %Y-%m-%d.",
        "Row 4, column 'Amount': 'five' is not an amount.",
        "Row 5, column 'Amount': '5.001': USD amounts have at most 2 decimal places.",
        "Row 6, column 'Amount': '0.00': Amount must be greater than zero.",
        "Row 7, column 'Description': empty; every line needs its description.",
    ]
    assert (
        error.message.startswith("The statement was not imported: Row 3, column 'Date'")
        and "(and 4 more)" in error.message
    )


def test_a_file_with_no_lines_or_not_text_is_refused():
    assert refusal(csv_bytes([])).fields == {"file": ["No transactions in the file."]}
    assert refusal(b"\xff\xfe\x00D").fields == {"file": ["Not UTF-8 text."]}


def test_an_ofx_statement_is_read_with_ofxtools_money_out_as_a_charge():
    content = ofx_document([("20260602", "-12.50", "FIT-1", "AMZN MKTP US"), ("20260605", "3.00", "FIT-2", "REFUND")])
    statement = parse(content, name="june.ofx")
    assert statement.file_format == "ofx" and statement.currency == "USD"
    assert [
        (line.position, line.posted_on, line.amount_minor, line.external_id, line.description)
        for line in statement.lines
    ] == [(1, date(2026, 6, 2), 1250, "FIT-1", "AMZN MKTP US"), (2, date(2026, 6, 5), -300, "FIT-2", "REFUND")]


def test_an_ofx_statement_in_another_currency_than_its_sources_is_refused():
    error = refusal(ofx_document([("20260602", "-1.00", "F", "X")], currency="EUR"), name="june.ofx")
    assert error.message == "The OFX statement is in EUR; the source 'Card' is in USD."


def test_a_broken_ofx_file_is_refused():
    assert refusal(b"OFXHEADER:100\nnonsense", name="june.ofx").fields == {"file": ["Not a valid OFX document."]}


@pytest.mark.parametrize(
    ("currency", "text", "minor"),
    [("JPY", "1,234", 1234), ("KWD", "12.345", 12345), ("USD", "(1,234.50)", -123450), ("USD", "+7", 700)],
)
def test_amounts_take_the_exponent_of_the_statements_currency(currency, text, minor):
    content = f'Date,Amount,Description\n2026-06-02,"{text}",SHOP\n'.encode()
    [line] = parse(content, currency=currency, reference_column="").lines
    assert line.amount_minor == minor


def test_more_decimals_than_the_currency_has_are_refused():
    content = b"Date,Amount,Description\n2026-06-02,100.5,SHOP\n"
    assert refusal(content, currency="JPY", reference_column="").fields == {
        "file": ["Row 2, column 'Amount': '100.5': JPY amounts have at most 0 decimal places."]
    }
