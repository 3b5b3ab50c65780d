"""The reports' writers: a generation, recorded so a closed period regenerates byte for byte, and an
org admin's sign-off of an access review."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.models import Organization, Role, User
from ledgerx.errors import Conflict, Forbidden, InvalidInput
from ledgerx.replica import reporting_reads

from . import selectors
from .models import AccessReviewSignOff, ReportFormat, ReportRun
from .periods import Period, period_closed_since, period_has_ended
from .rendering import RENDERERS, file_checksum
from .report import Report, moment_text


@dataclass(frozen=True)
class GeneratedReport:
    report: Report
    content: bytes
    run: ReportRun

    @property
    def data_changed(self) -> bool:
        return self.run.data_changed


@transaction.atomic
def report_generate(
    *, actor: User | None, organization: Organization, kind: str, period: Period, file_format: str
) -> GeneratedReport:
    """Build, render and record one report.

    Once every month of the period is closed (`period_closed_since`), the first run after that is its
    reference: every later one states the reference's generation time, so the same data gives the same
    bytes, and a different data checksum says the period's data changed since, through a month reopened
    (`GeneratedReport.data_changed`).
    """
    if file_format not in ReportFormat.values:
        raise InvalidInput(
            f"Unknown format {file_format!r}.", fields={"format": [f"One of {', '.join(ReportFormat.values)}."]}
        )
    kind = selectors.report_kind(kind)
    now = timezone.now()
    reference = None
    closed_since = period_closed_since(organization=organization, period=period)
    if closed_since is not None:
        reference = selectors.report_first_run_since(
            organization=organization, kind=kind, period=period, since=closed_since
        )
    generated_at = reference.generated_at if reference is not None else now
    with reporting_reads():
        report = selectors.report_build(kind=kind, organization=organization, period=period)
    content = RENDERERS[ReportFormat(file_format)](report, generated_at)
    run = ReportRun.objects.create(
        organization=organization,
        kind=kind,
        period_start=period.start,
        period_end=period.end,
        format=file_format,
        generated_at=generated_at,
        generated_by=actor,
        data_checksum=report.checksum,
        file_checksum=file_checksum(content),
        regenerated_from=reference,
        created_at=now,
    )
    return GeneratedReport(report=report, content=content, run=run)


def access_review_sign_off(*, actor: User, period: Period, checksum: str, note: str = "") -> AccessReviewSignOff:
    """An org admin signs off the access review of an ended period, as of the checksum they reviewed.

    Refused unless the checksum is the review's as it reads now (the data changed since it was read
    otherwise), and refused a second time for the same period and checksum.
    """
    if actor.role != Role.ORG_ADMIN:
        raise Forbidden("Only an org admin signs off an access review.")
    organization = actor.organization
    if not period_has_ended(period=period, now=timezone.now()):
        raise Conflict("An access review is signed off once its period has ended.")
    current = selectors.access_review(organization=organization, period=period).checksum
    if checksum != current:
        raise Conflict(
            "This is not the access review of that period as it reads now "
            f"(its checksum is {current}): read it again before signing it off.",
        )
    try:
        with transaction.atomic():
            sign_off = AccessReviewSignOff.objects.create(
                organization=organization,
                period_start=period.start,
                period_end=period.end,
                checksum=checksum,
                signed_by=actor,
                note=(note or "").strip(),
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.ACCESS_REVIEW_SIGNED_OFF,
                target=sign_off,
                after={"period": period.label, "checksum": checksum, "note": sign_off.note},
            )
    except IntegrityError:
        earlier = (
            AccessReviewSignOff.objects.of(organization)
            .select_related("signed_by")
            .get(period_start=period.start, period_end=period.end, checksum=checksum)
        )
        raise Conflict(
            f"This access review was already signed off by {earlier.signed_by.email} "
            f"at {moment_text(earlier.signed_at, period.timezone_name)}."
        ) from None
    return sign_off
