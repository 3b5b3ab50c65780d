"""A payout batch as CSV for the bank: one row per employee, the sum of their claims in the batch.

Made only from the batch's own rows (each line keeps its employee's email as it was), so the export of
a released batch is the same bytes every time, and its SHA-256, fixed at release, checks a download.
"""

import csv
import hashlib
import io
from collections.abc import Iterator

from django.contrib.postgres.aggregates import StringAgg
from django.db.models import Sum, TextField
from django.db.models.functions import Cast

from ledgerx.money import to_decimal_string

from .models import PayoutBatch, PayoutLine

EXPORT_COLUMNS = ("employee", "email", "amount", "currency", "claims", "reference")
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def batch_export_lines(batch: PayoutBatch) -> Iterator[str]:
    """The CSV, a line at a time, read from the database as it is written out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(row: tuple) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(EXPORT_COLUMNS)
    payees = (
        PayoutLine.objects.filter(batch=batch)
        .values("employee_id", "employee_email")
        .annotate(total=Sum("amount_minor"), claims=StringAgg(Cast("claim_id", TextField()), ";", order_by="claim_id"))
        .order_by("employee_email", "employee_id")
    )
    for number, payee in enumerate(payees.iterator(), start=1):
        yield line(
            (
                str(payee["employee_id"]),
                _cell(payee["employee_email"]),
                to_decimal_string(payee["total"], batch.currency),
                batch.currency,
                payee["claims"],
                f"{batch.reference}-{number:04d}",
            )
        )


def batch_export_sha256(batch: PayoutBatch) -> str:
    digest = hashlib.sha256()
    for text in batch_export_lines(batch):
        digest.update(text.encode())
    return digest.hexdigest()
