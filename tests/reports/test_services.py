"""Generation, byte-identical regeneration of an ended period, and the access review's sign-off."""

from datetime import date

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.ledger.closing import month_close, month_reopen
from apps.reports import selectors, services
from apps.reports.models import AccessReviewSignOff, ReportRun
from apps.reports.periods import period_closed_since, period_parse
from ledgerx.errors import Conflict, Forbidden, InvalidInput
from tests.spends import settle_all, spend_submit

from .conftest import NEXT_MONTH, at


def generate(month, kind: str, file_format: str, period=None, actor=None):
    return services.report_generate(
        actor=actor or month.finance,
        organization=month.organization,
        kind=kind,
        period=period or month.period(),
        file_format=file_format,
    )


@pytest.mark.parametrize("kind", ["ledger-tie-out", "segregation-of-duties", "access-review"])
@pytest.mark.parametrize("file_format", ["csv", "pdf"])
def test_an_ended_period_regenerates_byte_for_byte(month, kind, file_format):
    first = generate(month, kind, file_format)
    again = generate(month, kind, file_format, actor=month.admin)
    assert first.content == again.content
    assert again.run.regenerated_from == first.run and not again.run.data_changed
    assert again.run.generated_at == first.run.generated_at
    assert again.run.file_checksum == first.run.file_checksum == services.file_checksum(first.content)
    assert first.run.data_checksum.encode() in first.content or file_format == "pdf"


def test_each_file_states_the_organization_period_generation_time_and_checksum(month):
    generated = generate(month, "ledger-tie-out", "csv")
    text = generated.content.decode()
    assert text.startswith("Report,Ledger tie-out\r\nOrganization,Audited Corp (audited-corp)\r\n")
    assert "Period,2025-03-01 to 2025-03-31 (UTC)\r\n" in text
    assert f"Generated at,{generated.run.generated_at.replace(microsecond=0).isoformat()}" in text
    assert f"Data checksum (SHA-256),{generated.report.checksum}\r\n" in text
    pdf = generate(month, "ledger-tie-out", "pdf").content
    assert pdf.startswith(b"%PDF-")


def test_a_change_to_the_period_data_shows_as_a_new_checksum(month):
    first = generate(month, "ledger-tie-out", "csv")
    # A late correction: the org admin reopens March, a spend is dated inside it, and finance closes it again.
    month_reopen(actor=month.admin, month=date(2025, 3, 1), reason="Late correction")
    with at(20, 15):
        spend_submit(month.employee, "25.00")
        settle_all(month.organization)
    reopened = generate(month, "ledger-tie-out", "csv")
    assert reopened.run.regenerated_from is None  # open again: generated afresh, nothing to restate
    month_close(actor=month.finance, month=date(2025, 3, 1))
    again = generate(month, "ledger-tie-out", "csv")
    assert again.run.regenerated_from == first.run and again.run.data_changed
    assert again.run.data_checksum != first.run.data_checksum
    assert again.content != first.content
    assert dict(again.report.summary)["every account ties out"] == "yes"


@pytest.mark.parametrize("which", ["this month", "April, ended and open", "March and April"])
def test_a_period_not_closed_is_generated_at_each_run_and_never_called_a_regeneration(month, which):
    today = timezone.localdate()
    period = {
        "this month": period_parse(organization=month.organization, month=f"{today.year:04d}-{today.month:02d}"),
        "April, ended and open": month.period(NEXT_MONTH),
        "March and April": period_parse(organization=month.organization, start="2025-03-01", end="2025-04-30"),
    }[which]
    assert period_closed_since(organization=month.organization, period=period) is None
    first = generate(month, "reversals", "csv", period=period)
    again = generate(month, "reversals", "csv", period=period)
    assert again.run.regenerated_from is None and first.run.generated_at < again.run.generated_at


def test_a_run_is_evidence_and_cannot_be_edited(month):
    run = generate(month, "reversals", "json").run
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ReportRun.objects.filter(id=run.id).update(data_checksum="0" * 64)


def test_unknown_report_and_format_are_refused(month):
    with pytest.raises(InvalidInput, match="Unknown report"):
        generate(month, "payroll", "csv")
    with pytest.raises(InvalidInput, match="Unknown format"):
        generate(month, "reversals", "xlsx")
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"month": "2025-13"}, "period"),
        ({"month": "March"}, "period"),
        ({"month": "2025-3"}, "period"),
        ({"start": "20250301", "end": "2025-03-02"}, "from"),
        ({"start": "2025-03-01"}, "to"),
        ({"start": "2025-03-10", "end": "2025-03-01"}, "to"),
        ({"start": "2025-03-01", "end": "2026-04-01"}, "to"),
        ({"start": "2025-02-30", "end": "2025-03-01"}, "from"),
        ({"month": "2025-03", "start": "2025-03-01"}, "period"),
    ],
)
def test_a_bad_period_is_refused_by_field(month, arguments, field):
    with pytest.raises(InvalidInput) as refused:
        period_parse(organization=month.organization, **arguments)
    assert field in refused.value.fields


def test_a_period_by_dates_covers_whole_days_in_the_organizations_timezone(month):
    period = period_parse(organization=month.organization, start="2025-03-03", end="2025-03-05")
    rows = selectors.segregation_of_duties(organization=month.organization, period=period).rows
    assert {row[3][:10] for row in rows} == {"2025-03-03", "2025-03-05"}


# Sign-off


def current_checksum(month) -> str:
    return selectors.access_review(organization=month.organization, period=month.period()).checksum


def test_an_org_admin_signs_off_the_access_review_once_per_checksum(month):
    checksum = current_checksum(month)
    sign_off = services.access_review_sign_off(
        actor=month.admin, period=month.period(), checksum=checksum, note="Reviewed with HR."
    )
    assert (sign_off.signed_by, sign_off.checksum, sign_off.note) == (month.admin, checksum, "Reviewed with HR.")
    event = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS_REVIEW_SIGNED_OFF)
    assert (event.actor, event.target_id, event.after["checksum"]) == (month.admin, str(sign_off.id), checksum)
    with pytest.raises(Conflict, match=f"already signed off by {month.admin.email}"):
        services.access_review_sign_off(actor=month.admin, period=month.period(), checksum=checksum)
    assert AccessReviewSignOff.objects.count() == 1
    assert selectors.access_review_sign_offs(organization=month.organization, period=month.period()) == [sign_off]


def test_a_sign_off_is_evidence_and_cannot_be_edited(month):
    sign_off = services.access_review_sign_off(
        actor=month.admin, period=month.period(), checksum=current_checksum(month)
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessReviewSignOff.objects.filter(id=sign_off.id).delete()


def test_only_an_org_admin_signs_off(month):
    for user in (month.finance, month.employee):
        with pytest.raises(Forbidden):
            services.access_review_sign_off(actor=user, period=month.period(), checksum=current_checksum(month))
    assert not AccessReviewSignOff.objects.exists()


def test_a_sign_off_names_the_review_as_it_reads_now_of_an_ended_period(month):
    with pytest.raises(Conflict, match="as it reads now"):
        services.access_review_sign_off(actor=month.admin, period=month.period(), checksum="0" * 64)
    today = timezone.localdate()
    this_month = period_parse(organization=month.organization, month=f"{today.year:04d}-{today.month:02d}")
    checksum = selectors.access_review(organization=month.organization, period=this_month).checksum
    with pytest.raises(Conflict, match="once its period has ended"):
        services.access_review_sign_off(actor=month.admin, period=this_month, checksum=checksum)
    assert not AccessReviewSignOff.objects.exists()
