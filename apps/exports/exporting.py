"""One export of a month's books: which, of whom, in which format; its bytes, its checksum, its response.

The API, the back office and the export_books command all go through here, so the three give the
same bytes for the same month.
"""

import base64
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.db import models
from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from apps.tenancy.models import Organization
from ledgerx.errors import InvalidInput
from ledgerx.replica import reporting_reads

from . import writers
from .layouts import LAYOUTS, ExportKind, Layout
from .months import Month, export_month


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The suffix of a format that asks for the file's SHA-256 instead of the file (`csv.sha256`).
CHECKSUM_SUFFIX = ".sha256"


@dataclass(frozen=True)
class Export:
    organization: Organization
    layout: Layout
    month: Month
    file_format: str

    @property
    def filename(self) -> str:
        return f"{self.organization.slug}-{self.layout.kind}-{self.month.label}.{self.file_format}"

    def rows(self):
        with reporting_reads():
            yield from self.layout.rows(self.organization, self.month)


def export_define(*, organization: Organization, kind: str, month: str, file_format: str) -> Export:
    problems = {}
    if kind not in ExportKind.values:
        problems["kind"] = [f"One of {', '.join(ExportKind.values)}."]
    if file_format not in ExportFormat.values:
        problems["format"] = [f"One of {', '.join(ExportFormat.values)}."]
    if problems:
        raise InvalidInput("Unknown export kind or format.", fields=problems)
    return Export(organization, LAYOUTS[kind], export_month(organization=organization, text=month), file_format)


def csv_stream(export: Export) -> Iterator[bytes]:
    return writers.csv_chunks(export.layout.columns, export.rows())


def xlsx_write(export: Export, target: BinaryIO) -> None:
    writers.xlsx_write(
        target, sheet=export.layout.kind, columns=export.layout.columns, rows=export.rows(), created=export.month.stamp
    )


def xlsx_temporary(export: Export) -> BinaryIO:
    """The XLSX in an anonymous temporary file (gone when closed), at its start."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 - handed on open: FileResponse or the caller closes it
    try:
        xlsx_write(export, file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def export_sha256(export: Export) -> str:
    """The file's SHA-256, computed as it is written; nothing is kept."""
    if export.file_format == ExportFormat.CSV:
        return writers.sha256_of_chunks(csv_stream(export))
    with xlsx_temporary(export) as file:
        return writers.sha256_of_file(file)


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_response(export: Export) -> HttpResponse:
    """CSV streamed as it is read from the database; XLSX written to a temporary file, then streamed from
    it with its SHA-256 in Repr-Digest (RFC 9530). A CSV's checksum is its sidecar (export_checksum_response)."""
    if export.file_format == ExportFormat.CSV:
        response = StreamingHttpResponse(csv_stream(export), content_type=CONTENT_TYPES[ExportFormat.CSV])
        return _attachment(response, export.filename)
    file = xlsx_temporary(export)
    digest = writers.sha256_of_file(file)
    response = FileResponse(
        file, as_attachment=True, filename=export.filename, content_type=CONTENT_TYPES[ExportFormat.XLSX]
    )
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
    return response


def export_checksum_response(export: Export) -> HttpResponse:
    """The sidecar: one line as sha256sum writes it, so `sha256sum -c` checks the downloaded file."""
    response = HttpResponse(f"{export_sha256(export)}  {export.filename}\n", content_type="text/plain; charset=utf-8")
    return _attachment(response, f"{export.filename}{CHECKSUM_SUFFIX}")
