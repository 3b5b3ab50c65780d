from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.exports.exporting import ExportFormat, csv_stream, export_define, xlsx_write
from apps.exports.layouts import ExportKind
from apps.exports.writers import sha256_of_file
from apps.tenancy.commands import command_organization
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = (
        "Write one month of an organization's books to a file (CSV or XLSX), as the API serves it, and its "
        "SHA-256 beside it (OUTPUT.sha256, as sha256sum writes it). A closed month gives the same bytes every time."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", required=True, help="Slug or id.")
        parser.add_argument("--month", required=True, help="A calendar month, YYYY-MM, in the organization's timezone.")
        parser.add_argument("--kind", required=True, choices=ExportKind.values)
        parser.add_argument("--format", dest="file_format", choices=ExportFormat.values, default=ExportFormat.CSV)
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args, **options) -> None:
        organization = command_organization(options["organization"])
        output: Path = options["output"]
        try:
            export = export_define(
                organization=organization,
                kind=options["kind"],
                month=options["month"],
                file_format=options["file_format"],
            )
            with output.open("w+b") as file:
                if export.file_format == ExportFormat.CSV:
                    file.writelines(csv_stream(export))
                else:
                    xlsx_write(export, file)
                digest = sha256_of_file(file)
        except LedgerXError as error:
            output.unlink(missing_ok=True)
            raise CommandError(error.message) from None
        checksum = output.with_name(f"{output.name}.sha256")
        checksum.write_text(f"{digest}  {output.name}\n")
        self.stdout.write(
            f"Wrote {output} ({export.layout.kind}, {export.month.label}): sha256 {digest}, in {checksum}."
        )
