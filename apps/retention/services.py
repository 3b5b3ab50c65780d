import hashlib
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.audit.verification import audit_verify
from apps.ledger.verification import ledger_verify
from apps.tenancy.models import Organization, User
from ledgerx.errors import InvalidInput

from .archive import ArchiveRefused, archive_write
from .models import RetentionArchive
from .periods import year_closed, year_months_open

# No ledger is older than the Unix epoch its chain counts time from.
FIRST_YEAR = 1970
# How many of verification's problems a refusal names (the command verify_* lists them all).
PROBLEMS_SHOWN = 5


def _refuse_unless_verified(report: dict, command: str) -> None:
    if not report["ok"]:
        named = " ".join(report["problems"][:PROBLEMS_SHOWN])
        raise ArchiveRefused(
            f"{command} finds {len(report['problems'])} problems, so nothing was archived"
            f" (run it for the list): {named}"
        )


def year_archive(*, actor: User | None, organization: Organization, year: int, output: Path) -> RetentionArchive:
    """Archive the organization's closed `year` into the empty or new directory `output`, recorded and audited.

    The ledger (of the organization) and the audit log are verified first, in the same snapshot the
    archive is read from: an archive of a ledger that does not verify is refused.
    """
    if not FIRST_YEAR <= year <= timezone.now().year:
        raise InvalidInput(f"{year} is not a year of the ledger.", fields={"year": ["Give a year from 1970 on."]})
    if not year_closed(organization, year, now=timezone.now()):
        still_open = ", ".join(f"{month:%Y-%m}" for month in year_months_open(organization, year))
        raise ArchiveRefused(
            f"{year} is not closed: a year may be archived once it ended more than the retention period ago "
            "and finance has closed every month of it" + (f" ({still_open} open)." if still_open else ".")
        )
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InvalidInput(f"{output} is not an empty directory.")
    output.mkdir(parents=True, exist_ok=True)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            _refuse_unless_verified(ledger_verify(organization=organization), "verify_ledger")
            _refuse_unless_verified(audit_verify(), "verify_audit")
            manifest = archive_write(organization=organization, year=year, directory=output)
    except BaseException:
        # The directory was empty: what is in it now is this run's unfinished archive.
        for path in output.iterdir():
            path.unlink()
        raise
    with transaction.atomic():
        archive = RetentionArchive.objects.create(
            organization=organization,
            year=year,
            manifest_sha256=hashlib.sha256(manifest).hexdigest(),
            path=str(output.resolve()),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.RETENTION_YEAR_ARCHIVED,
            target=archive,
            after={"year": year, "manifest_sha256": archive.manifest_sha256, "path": archive.path},
        )
    return archive
