"""The two file formats, each written as its rows arrive: nothing holds a whole file in memory.

CSV is yielded in chunks of about 64 KiB, for a StreamingHttpResponse or a file. XLSX is written by
XlsxWriter in constant_memory mode (each row goes to a temporary file as it is written, strings
inline rather than in a shared table) into a file the caller gives, then streamed from it. Both are
the same bytes for the same rows: nothing in them reads a clock (the XLSX creation time is the
month's, and XlsxWriter dates every zip member 1980-01-01).
"""

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

import xlsxwriter

from ledgerx.errors import InvalidInput

from .layouts import Cell

CHUNK_BYTES = 64 * 1024
# A spreadsheet runs a text cell that starts with one of these as a formula.
_FORMULA_STARTS = frozenset("=+-@\t\r")
# Rows of an XLSX worksheet, the header row included (Excel's limit).
XLSX_MAX_ROWS = 1_048_576


def csv_chunks(columns: tuple[str, ...], rows: Iterable[tuple[Cell, ...]]) -> Iterator[bytes]:
    """RFC 4180 CSV (CRLF line ends, UTF-8), the header row first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        # Inline, not a function per cell: this line runs for every cell of a million-line file.
        writer.writerow(
            [
                (f"'{value}" if value[:1] in _FORMULA_STARTS else value) if type(value) is str else str(value)
                for value in row
            ]
        )
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_write(
    target: BinaryIO, *, sheet: str, columns: tuple[str, ...], rows: Iterable[tuple[Cell, ...]], created: datetime
) -> None:
    """One worksheet, the header row bold and frozen; amounts as numbers, everything else as text."""
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True})
    # A fixed creation time (core.xml would otherwise say now), stated in UTC without its zone.
    workbook.set_properties({"created": created.replace(tzinfo=None)})
    worksheet = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    worksheet.freeze_panes(1, 0)
    worksheet.write_row(0, 0, columns, bold)
    number = 0
    for number, row in enumerate(rows, start=1):
        if number >= XLSX_MAX_ROWS:
            workbook.close()
            raise InvalidInput(
                f"This export has more than {XLSX_MAX_ROWS - 1} rows, more than a worksheet holds: ask for CSV.",
                fields={"format": ["Too many rows for XLSX; use csv."]},
            )
        for column, value in enumerate(row):
            if isinstance(value, Decimal):
                worksheet.write_number(number, column, float(value))
            elif value:  # an empty text is an empty cell, which costs nothing to write
                worksheet.write_string(number, column, value)
    workbook.close()


def sha256_of_chunks(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha256_of_file(file: BinaryIO) -> str:
    """Of the whole file, read from its start in chunks; leaves it at its start again."""
    file.seek(0)
    digest = hashlib.file_digest(file, "sha256").hexdigest()
    file.seek(0)
    return digest
