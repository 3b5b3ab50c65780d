"""Reading a statement file into lines: CSV through its source's saved column mapping, OFX through ofxtools.

Every amount becomes integer minor units of the statement's currency (ledgerx/money.py), a charge positive
and a refund or payment negative, whatever the file's convention. A file with any bad row is refused
whole, naming each bad row and column (at most MAX_PROBLEMS of them), so nothing of it is stored.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from ofxtools.Parser import OFXTree

from ledgerx.errors import InvalidInput
from ledgerx.money import MoneyError, parse_amount

from .models import StatementImport, StatementSource

MAX_PROBLEMS = 20
DESCRIPTION_MAX = 255
REFERENCE_MAX = 100
EXTERNAL_ID_MAX = 255


@dataclass(frozen=True)
class ParsedLine:
    position: int
    posted_on: date
    amount_minor: int
    description: str
    reference: str
    external_id: str


@dataclass(frozen=True)
class ParsedStatement:
    file_format: str
    currency: str
    lines: list[ParsedLine]


class _RowError(ValueError):
    """One cell that cannot be read: the message names its column and says what was expected."""


def statement_parse(*, source: StatementSource, file_name: str, content: bytes) -> ParsedStatement:
    """The file's lines; OFX when its name ends in .ofx or .qfx or it starts like one, CSV otherwise."""
    head = content.lstrip()[:64].upper()
    if file_name.lower().endswith((".ofx", ".qfx")) or head.startswith((b"OFXHEADER", b"<?XML", b"<OFX")):
        statement = _ofx_parse(source=source, content=content)
    else:
        statement = _csv_parse(source=source, content=content)
    if not statement.lines:
        raise InvalidInput("The statement has no lines.", fields={"file": ["No transactions in the file."]})
    return statement


def _refuse(problems: list[str]) -> None:
    if problems:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        raise InvalidInput(
            f"The statement was not imported: {shown[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            fields={"file": shown + ([f"... and {more} more."] if more else [])},
        )


def _csv_parse(*, source: StatementSource, content: bytes) -> ParsedStatement:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The CSV file is not UTF-8 text.", fields={"file": ["Not UTF-8 text."]}) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    header = reader.fieldnames or []
    wanted = [
        column
        for column in (
            source.date_column,
            source.amount_column,
            source.debit_column,
            source.credit_column,
            source.description_column,
            source.reference_column,
            source.external_id_column,
        )
        if column
    ]
    missing = [column for column in wanted if column not in header]
    if missing:
        names = ", ".join(f"'{column}'" for column in missing)
        raise InvalidInput(
            f"The CSV has no column {names}, which the source '{source.name}' maps; its header is: "
            + ", ".join(header),
            fields={"file": [f"Missing column {column!r}." for column in missing]},
        )
    lines: list[ParsedLine] = []
    problems: list[str] = []
    try:
        for number, row in enumerate(reader, start=2):
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue  # a blank line between rows, or at the end
            try:
                lines.append(_csv_line(source, number, row))
            except _RowError as error:
                problems.append(f"Row {number}, {error}")
    except csv.Error as error:
        raise InvalidInput(f"The CSV file cannot be read: {error}.", fields={"file": [str(error)]}) from None
    _refuse(problems)
    return ParsedStatement(file_format=StatementImport.Format.CSV, currency=source.currency, lines=lines)


def _csv_line(source: StatementSource, number: int, row: dict) -> ParsedLine:
    def cell(column: str) -> str:
        value = row.get(column) if column else ""
        return (value or "").strip()

    raw_date = cell(source.date_column)
    try:
        posted_on = datetime.strptime(raw_date, source.date_format).date()
    except ValueError:
        raise _RowError(
            f"column '{source.date_column}': {raw_date!r} is not a date in the format {source.date_format}."
        ) from None
    if source.amount_column:
        amount = _signed_amount(source, source.amount_column, cell(source.amount_column))
        if source.sign_convention == StatementSource.SignConvention.CHARGES_NEGATIVE:
            amount = -amount
    else:
        debit, credit = cell(source.debit_column), cell(source.credit_column)
        if bool(debit) == bool(credit):
            raise _RowError(
                f"columns '{source.debit_column}' and '{source.credit_column}': exactly one of the two holds an amount."
            )
        column = source.debit_column if debit else source.credit_column
        magnitude = abs(_signed_amount(source, column, debit or credit))
        amount = magnitude if debit else -magnitude
    description = cell(source.description_column)
    if not description:
        raise _RowError(f"column '{source.description_column}': empty; every line needs its description.")
    return ParsedLine(
        position=number,
        posted_on=posted_on,
        amount_minor=amount,
        description=_fit(description, DESCRIPTION_MAX, source.description_column),
        reference=_fit(cell(source.reference_column), REFERENCE_MAX, source.reference_column),
        external_id=_fit(cell(source.external_id_column), EXTERNAL_ID_MAX, source.external_id_column),
    )


def _fit(value: str, max_length: int, column: str) -> str:
    if len(value) > max_length:
        raise _RowError(f"column '{column}': longer than {max_length} characters.")
    return value


_SIGNED = re.compile(r"(?P<sign>[-+]?)(?P<digits>[0-9.,' ]+)|\((?P<negative>[0-9.,' ]+)\)")


def _signed_amount(source: StatementSource, column: str, text: str) -> int:
    """A cell such as "-1,234.56", "(12.00)" or "1.234,56" in minor units; nonzero."""
    match = _SIGNED.fullmatch(text)
    if match is None:
        raise _RowError(f"column '{column}': {text!r} is not an amount.")
    digits = match.group("digits") or match.group("negative")
    thousands = "," if source.decimal_separator == "." else "."
    plain = re.sub(r"[ ']", "", digits).replace(thousands, "").replace(source.decimal_separator, ".")
    try:
        minor = parse_amount(plain, source.currency)
    except MoneyError as error:
        raise _RowError(f"column '{column}': {text!r}: {error}") from None
    negative = match.group("sign") == "-" or match.group("negative") is not None
    return -minor if negative else minor


def _ofx_parse(*, source: StatementSource, content: bytes) -> ParsedStatement:
    parser = OFXTree()
    try:
        parser.parse(io.BytesIO(content))
        statements = parser.convert().statements
    except (SyntaxError, ValueError, KeyError, IndexError) as error:
        raise InvalidInput(
            f"The OFX file cannot be read: {error}".strip(), fields={"file": ["Not a valid OFX document."]}
        ) from None
    if len(statements) != 1:
        raise InvalidInput(
            f"The OFX file holds {len(statements)} statements; import one account's statement per file.",
            fields={"file": ["Exactly one statement per file."]},
        )
    [statement] = statements
    currency = statement.curdef
    if currency != source.currency:
        raise InvalidInput(
            f"The OFX statement is in {currency}; the source '{source.name}' is in {source.currency}.",
            fields={"file": [f"Currency {currency}, expected {source.currency}."]},
        )
    lines: list[ParsedLine] = []
    problems: list[str] = []
    for number, entry in enumerate(statement.transactions, start=1):
        try:
            lines.append(_ofx_line(source, number, entry))
        except _RowError as error:
            problems.append(f"Transaction {number} (FITID {entry.fitid}), {error}")
    _refuse(problems)
    return ParsedStatement(file_format=StatementImport.Format.OFX, currency=currency, lines=lines)


def _ofx_line(source: StatementSource, number: int, entry) -> ParsedLine:
    # OFX amounts are the account holder's: money out is negative. A charge is positive here.
    try:
        magnitude = parse_amount(format(abs(entry.trnamt), "f"), source.currency)
    except MoneyError as error:
        raise _RowError(f"TRNAMT {entry.trnamt}: {error}") from None
    amount = magnitude if entry.trnamt < 0 else -magnitude
    description = (entry.name or entry.memo or "").strip()
    if not description:
        raise _RowError("NAME and MEMO: empty; every line needs its description.")
    return ParsedLine(
        position=number,
        posted_on=entry.dtposted.date(),
        amount_minor=amount,
        description=_fit(description, DESCRIPTION_MAX, "NAME"),
        reference=_fit((entry.refnum or entry.checknum or "").strip(), REFERENCE_MAX, "REFNUM"),
        external_id=_fit(entry.fitid.strip(), EXTERNAL_ID_MAX, "FITID"),
    )
