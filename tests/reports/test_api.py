"""/api/v1/reports: the report as JSON or a file, a recorded run, and the access review's sign-off."""

import pytest

from apps.reports import selectors
from apps.reports.models import AccessReviewSignOff, ReportRun
from tests.conftest import client_for

from .conftest import MONTH, generate_month

REPORTS = "/api/v1/reports"
SIGN_OFFS = "/api/v1/reports/access-review/sign-offs"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_a_report_as_json_states_its_period_checksum_and_run(month):
    response = client_for(month.finance).get(REPORTS, {"report": "ledger-tie-out", "period": MONTH})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"from": "2025-03-01", "to": "2025-03-31", "timezone": "UTC"}
    assert body["columns"][0] == "account" and ["balances sum to zero", "yes"] in body["summary"]
    run = ReportRun.objects.get()
    assert body["run"]["id"] == str(run.id) and body["checksum"] == run.data_checksum
    assert (body["run"]["generated_by"], body["run"]["data_changed"], body["sign_offs"]) == (
        month.finance.email,
        False,
        [],
    )
    assert client_for(month.finance).get(f"{REPORTS}/runs/{run.id}").json()["data_checksum"] == run.data_checksum


@pytest.mark.parametrize(("file_format", "content_type"), [("csv", "text/csv"), ("pdf", "application/pdf")])
def test_a_report_downloads_as_a_file_identical_on_the_next_download(month, file_format, content_type):
    client = client_for(month.admin)
    query = {"report": "segregation-of-duties", "from": "2025-03-01", "to": "2025-03-31", "format": file_format}
    first, again = client.get(REPORTS, query), client.get(REPORTS, query)
    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith(content_type)
    assert first["Content-Disposition"] == (
        f'attachment; filename="audited-corp-segregation-of-duties-2025-03-01-2025-03-31.{file_format}"'
    )
    assert first.content == again.content
    assert first["X-Report-File-Checksum"] == again["X-Report-File-Checksum"]
    assert again["X-Report-Data-Changed"] == "false"


def test_the_access_review_lists_its_sign_offs_and_an_org_admin_signs_it_off(month):
    review = client_for(month.finance).get(REPORTS, {"report": "access-review", "period": MONTH}).json()
    response = client_for(month.admin).post(
        SIGN_OFFS, {"period": MONTH, "checksum": review["checksum"], "note": "Reviewed."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["signed_by"], response.json()["checksum"]) == (month.admin.email, review["checksum"])
    again = client_for(month.admin).post(SIGN_OFFS, {"period": MONTH, "checksum": review["checksum"]}, format="json")
    assert "already signed off" in error_of(again, 409)["message"]
    listed = client_for(month.finance).get(REPORTS, {"report": "access-review", "period": MONTH}).json()
    assert [sign_off["note"] for sign_off in listed["sign_offs"]] == ["Reviewed."]


@pytest.mark.parametrize(("role", "status"), [("employee", 403), ("finance", 200), ("admin", 200), ("anonymous", 401)])
def test_who_reads_reports(month, role, status):
    user = None if role == "anonymous" else getattr(month, role)
    response = client_for(user).get(REPORTS, {"report": "reversals", "period": MONTH})
    assert response.status_code == status


@pytest.mark.parametrize(("role", "status"), [("employee", 403), ("finance", 403), ("admin", 201)])
def test_only_an_org_admin_signs_off(month, role, status):
    checksum = selectors.access_review(organization=month.organization, period=month.period()).checksum
    response = client_for(getattr(month, role)).post(SIGN_OFFS, {"period": MONTH, "checksum": checksum}, format="json")
    assert response.status_code == status
    assert AccessReviewSignOff.objects.count() == (status == 201)


def test_another_tenants_run_is_not_found(month):
    other = generate_month("Other Corp")
    client_for(other.finance).get(REPORTS, {"report": "reversals", "period": MONTH})
    run = ReportRun.objects.get(organization=other.organization)
    assert error_of(client_for(month.finance).get(f"{REPORTS}/runs/{run.id}"), 404)["code"] == "not_found"
    # Each organization's report reads its own data only.
    rows = client_for(month.finance).get(REPORTS, {"report": "access-review", "period": MONTH}).json()["rows"]
    assert all(row[0].endswith("@audited-corp.test") for row in rows)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"report": "payroll", "period": MONTH}, "report"),
        ({"period": MONTH}, "report"),
        ({"report": "reversals", "period": "2025-3"}, "period"),
        ({"report": "reversals"}, "from"),
        ({"report": "reversals", "from": "2025-03-31", "to": "2025-03-01"}, "to"),
        ({"report": "reversals", "period": MONTH, "format": "xlsx"}, "format"),
        ({"report": "reversals", "period": MONTH, "month": "3"}, "month"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(month, query, field):
    response = client_for(month.finance).get(REPORTS, query)
    assert field in error_of(response, 400)["fields"]
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": MONTH}, "checksum"),
        ({"period": "March", "checksum": "x"}, "period"),
        ({"period": MONTH, "checksum": "x", "signed_by": "someone"}, "signed_by"),
    ],
)
def test_a_bad_sign_off_is_a_400(month, body, field):
    assert field in error_of(client_for(month.admin).post(SIGN_OFFS, body, format="json"), 400)["fields"]
    assert not AccessReviewSignOff.objects.exists()
