"""The auditors' reports, one selector each, for one organization and one period; and the finance dashboard."""

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.utils import timezone

from apps.budgets.selectors import budget_overview
from apps.spending import selectors as spending_selectors
from apps.tenancy.models import Organization, User
from ledgerx.errors import InvalidInput
from ledgerx.months import month_start, month_text
from ledgerx.replica import reporting_reads

from . import dashboard
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


def dashboard_of_month(*, organization: Organization, month: date, viewer: User) -> dashboard.Dashboard:
    """The finance dashboard of `month` (its first day) as it stands now, over the departments `viewer` sees.

    A month that has not begun in the organization's timezone has no dashboard: a 400."""
    now = timezone.now()
    if month > month_start(now, organization.timezone):
        raise InvalidInput(
            f"{month_text(month)} has not begun: a dashboard is of this month or one before it.",
            fields={"month": ["A month that has begun, YYYY-MM."]},
        )
    # Long sums that decide nothing: the replica may answer them (ledgerx/replica.py).
    with reporting_reads():
        days_in_month, days_elapsed = dashboard.month_days(month, now, organization.timezone)
        lines = budget_overview(user=viewer, month=month)
        spans = dashboard.comparison_spans(month, now, organization.timezone)
        first_month = month
        for _ in range(dashboard.TREND_MONTHS - 1):
            first_month = (first_month - timedelta(days=1)).replace(day=1)
        return dashboard.Dashboard(
            organization=organization,
            month=month,
            as_of=now,
            days_in_month=days_in_month,
            days_elapsed=days_elapsed,
            comparison=dashboard.comparison_build(
                spans=spans,
                lines=lines,
                current_rows=spending_selectors.spend_totals_between(
                    organization=organization, start=spans[0], end=spans[1]
                ),
                previous_rows=spending_selectors.spend_totals_between(
                    organization=organization, start=spans[2], end=spans[3]
                ),
            ),
            months=tuple(
                spending_selectors.spend_per_month(
                    organization=organization, first_month=first_month, last_month=month
                ).items()
            ),
            burn_down=dashboard.burn_down_build(
                month=month,
                lines=lines,
                per_department_day=spending_selectors.spend_per_department_day(organization=organization, month=month),
                days_in_month=days_in_month,
                days_elapsed=days_elapsed,
            ),
        )
