from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.retention.services import year_archive
from apps.tenancy.commands import command_actor, command_organization
from ledgerx.errors import LedgerXError


class Command(BaseCommand):
    help = (
        "Archive one organization's closed year (ended more than RETENTION_YEARS ago) into an empty directory: "
        "its transactions, ledger entries, audit log, their chain seals and checkpoints, and a signed manifest. "
        "Refused when the ledger or the audit log does not verify. Check it with verify_archive."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--organization", required=True, help="Slug or id.")
        parser.add_argument("--year", required=True, type=int, help="The calendar year, YYYY.")
        parser.add_argument("--output", required=True, type=Path, help="A new or empty directory.")
        parser.add_argument("--as", dest="actor", help="Email of the finance manager or org admin asking for it.")

    def handle(self, *args, **options) -> None:
        organization = command_organization(options["organization"])
        actor = command_actor(organization_id=organization.id, email=options["actor"])
        try:
            archive = year_archive(
                actor=actor, organization=organization, year=options["year"], output=options["output"]
            )
        except LedgerXError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Archived {archive.year} of '{organization.slug}' into {archive.path}: "
            f"manifest SHA-256 {archive.manifest_sha256} (archive {archive.id})."
        )
