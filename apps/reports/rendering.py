"""A report as a file: CSV (stdlib csv) or PDF (ReportLab). The same report and generation time give
the same bytes: nothing in a file depends on when or where it was rendered."""

import csv
import hashlib
import io
import json
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .models import ReportFormat
from .report import Report, moment_text

CONTENT_TYPES = {
    ReportFormat.JSON: "application/json",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}


def file_checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def report_header(report: Report, generated_at: datetime) -> list[tuple[str, str]]:
    """What every file states before its rows."""
    organization = report.organization
    return [
        ("Report", report.title),
        ("Organization", f"{organization.name} ({organization.slug})"),
        ("Period", report.period.label),
        ("Generated at", moment_text(generated_at, report.period.timezone_name)),
        ("Data checksum (SHA-256)", report.checksum),
    ]


def filename(report: Report, file_format: str) -> str:
    period = report.period
    return f"{report.organization.slug}-{report.kind}-{period.start.isoformat()}-{period.end.isoformat()}.{file_format}"


def render_csv(report: Report, generated_at: datetime) -> bytes:
    """The header lines, a blank line, the table, a blank line and the summary."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(report_header(report, generated_at))
    writer.writerow([])
    writer.writerow(report.columns)
    writer.writerows(report.rows)
    writer.writerow([])
    writer.writerows(report.summary)
    return buffer.getvalue().encode()


def _cell(text: str, style) -> Paragraph:
    return Paragraph(escape(text), style)


def _line(name: str, value: str, style) -> Paragraph:
    return Paragraph(f"<b>{escape(name)}:</b> {escape(value)}", style)


def render_pdf(report: Report, generated_at: datetime) -> bytes:
    """Landscape A4, the header, the table (its head repeated on every page) and the summary.

    `invariant=1` fixes the PDF's creation date and document id, the only parts ReportLab would
    otherwise take from the clock; the standard Helvetica font is not embedded, so no font file
    changes the bytes either.
    """
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"{report.title}, {report.organization.name}, {report.period.label}",
        author="LedgerX",
        creator="LedgerX",
        producer="LedgerX",
        subject=report.checksum,
        invariant=1,
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    head = small.clone("head", fontName="Helvetica-Bold")
    story = [Paragraph(escape(report.title), styles["Title"])]
    story += [_line(name, value, styles["BodyText"]) for name, value in report_header(report, generated_at)[1:]]
    story.append(Spacer(1, 5 * mm))
    if report.rows:
        data = [[_cell(name, head) for name in report.columns]]
        data += [[_cell(value, small) for value in row] for row in report.rows]
        table = Table(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    else:
        story.append(Paragraph("Nothing to report in this period.", styles["BodyText"]))
    story.append(Spacer(1, 5 * mm))
    story += [_line(name, value, styles["BodyText"]) for name, value in report.summary]
    document.build(story)
    return buffer.getvalue()


def report_dict(report: Report, generated_at: datetime) -> dict:
    """The JSON body's report part; the API adds the run and its regeneration."""
    period = report.period
    return {
        "report": report.kind,
        "title": report.title,
        "organization": {"id": str(report.organization.id), "name": report.organization.name},
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "timezone": period.timezone_name},
        "generated_at": moment_text(generated_at, period.timezone_name),
        "checksum": report.checksum,
        "columns": list(report.columns),
        "rows": [list(row) for row in report.rows],
        "summary": [list(line) for line in report.summary],
    }


def render_json(report: Report, generated_at: datetime) -> bytes:
    return json.dumps(report_dict(report, generated_at), ensure_ascii=False, sort_keys=True).encode()


RENDERERS = {ReportFormat.JSON: render_json, ReportFormat.CSV: render_csv, ReportFormat.PDF: render_pdf}
