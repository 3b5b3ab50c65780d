"""The auditors' reports, one selector each, for one organization and one period."""

from collections.abc import Callable
from datetime import datetime

from apps.tenancy.models import Organization
from ledgerx.errors import InvalidInput

from .access_review import access_review
from .changes import limit_and_policy_changes
from .models import AccessReviewSignOff, ReportKind, ReportRun
from .periods import Period
from .report import Report
from .reversals import reversals
from .segregation import segregation_of_duties
from .tie_out import ledger_tie_out

REPORTS: dict[str, Callable[..., Report]] = {
    ReportKind.ACCESS_REVIEW: access_review,
    ReportKind.SEGREGATION_OF_DUTIES: segregation_of_duties,
    ReportKind.LIMIT_AND_POLICY_CHANGES: limit_and_policy_changes,
    ReportKind.REVERSALS: reversals,
    ReportKind.LEDGER_TIE_OUT: ledger_tie_out,
}


def report_kind(text: str) -> ReportKind:
    """The kind named by `text`; a 400 naming the known ones otherwise."""
    if text not in ReportKind.values:
        raise InvalidInput(
            f"Unknown report {text!r}; the reports are {', '.join(ReportKind.values)}.",
            fields={"report": [f"One of {', '.join(ReportKind.values)}."]},
        )
    return ReportKind(text)


def report_build(*, kind: str, organization: Organization, period: Period) -> Report:
    return REPORTS[report_kind(kind)](organization=organization, period=period)


def report_first_run_since(
    *, organization: Organization, kind: str, period: Period, since: datetime
) -> ReportRun | None:
    """The first run generated `since` the period was closed: the one every later regeneration restates."""
    return (
        ReportRun.objects.of(organization)
        .filter(kind=kind, period_start=period.start, period_end=period.end, created_at__gte=since)
        .order_by("created_at", "id")
        .first()
    )


def report_runs(*, organization: Organization) -> list[ReportRun]:
    return ReportRun.objects.of(organization).select_related("generated_by", "regenerated_from")


def access_review_sign_offs(*, organization: Organization, period: Period) -> list[AccessReviewSignOff]:
    return list(
        AccessReviewSignOff.objects.of(organization)
        .filter(period_start=period.start, period_end=period.end)
        .select_related("signed_by")
        .order_by("signed_at", "id")
    )
