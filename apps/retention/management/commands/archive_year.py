import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.retention.services import year_archive
from apps.tenancy.models import Organization, Role, User
from ledgerx.errors import LedgerXError


def _organization(text: str) -> Organization:
    try:
        found = Organization.objects.filter(id=uuid.UUID(text)).first()
    except ValueError:
        found = Organization.objects.filter(slug=text).first()
    if found is None:
        raise CommandError(f"No organization {text!r} (give its slug or id).")
    return found


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
        organization = _organization(options["organization"])
        actor = None  # the platform, unless --as names who asked
        if options["actor"]:
            actor = User.objects.filter(
                email=options["actor"].lower(),
                organization=organization,
                role__in=(Role.FINANCE_MANAGER, Role.ORG_ADMIN),
            ).first()
            if actor is None:
                raise CommandError("--as must name a finance manager or org admin of the organization.")
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
