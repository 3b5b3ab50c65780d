"""The reports page of the back office: read, download, sign off; scoped like the rest of the admin."""

from django.test import Client

from apps.reports.models import AccessReviewSignOff, ReportRun
from apps.tenancy.models import Role
from tests.factories import UserFactory, login_verified

from .conftest import MONTH

PAGE = "/admin/reports/reportrun/report/"


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_finance_reads_a_report_and_downloads_it_without_a_sign_off_form(month):
    client = admin_client(month.finance)
    page = client.get(PAGE, {"report": "segregation-of-duties", "period": MONTH})
    assert page.status_code == 200
    text = page.content.decode()
    assert "self approval" in text and month.employee.email in text
    assert 'name="organization"' not in text and "Sign off" not in text
    csv = client.get(PAGE, {"report": "segregation-of-duties", "period": MONTH, "download": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and b"self approval" in csv.content
    assert list(ReportRun.objects.values_list("format", flat=True).order_by("created_at")) == ["json", "csv"]
    assert "Generate a report" in client.get("/admin/reports/reportrun/").content.decode()


def test_an_org_admin_signs_off_the_access_review_on_the_page(month):
    client = admin_client(month.admin)
    query = {"report": "access-review", "period": MONTH}
    page = client.get(PAGE, query)
    checksum = page.context["report"].checksum
    assert "Sign off this access review" in page.content.decode()
    response = client.post(f"{PAGE}?report=access-review&period={MONTH}", {"checksum": checksum, "note": "Fine."})
    assert response.status_code == 302
    sign_off = AccessReviewSignOff.objects.get()
    assert (sign_off.signed_by, sign_off.checksum, sign_off.note) == (month.admin, checksum, "Fine.")
    again = client.post(f"{PAGE}?report=access-review&period={MONTH}", {"checksum": checksum}, follow=True)
    assert "already signed off" in again.content.decode()
    assert AccessReviewSignOff.objects.count() == 1


def test_a_finance_manager_cannot_sign_off_by_posting(month):
    client = admin_client(month.finance)
    checksum = (
        admin_client(month.admin).get(PAGE, {"report": "access-review", "period": MONTH}).context["report"].checksum
    )
    response = client.post(f"{PAGE}?report=access-review&period={MONTH}", {"checksum": checksum}, follow=True)
    assert "Only an org admin signs off" in response.content.decode()
    assert not AccessReviewSignOff.objects.exists()


def test_a_bad_period_is_said_on_the_page_and_records_nothing(month):
    page = admin_client(month.finance).get(PAGE, {"report": "reversals", "period": "March"})
    assert page.status_code == 200 and "A period is written YYYY-MM, from 1970 on." in page.content.decode()
    assert not ReportRun.objects.exists()


def test_employees_do_not_reach_the_page_and_system_admins_choose_the_organization(month):
    assert admin_client(month.employee).get(PAGE).status_code == 302  # to the admin's sign-in
    root = UserFactory(role=Role.SYSTEM_ADMIN, email="root@reports.test")
    client = admin_client(root)
    assert 'name="organization"' in client.get(PAGE).content.decode()
    page = client.get(PAGE, {"organization": str(month.organization.id), "report": "reversals", "period": MONTH})
    assert "Charged twice by the vendor" in page.content.decode()
