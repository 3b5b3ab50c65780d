"""Month-end close from the back office (a confirmed form) and from the command line (close_month)."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from apps.ledger.models import MonthClose
from tests.factories import signed_in_client
from tests.spends import spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

MONTHS = "/admin/ledger/monthclose/months/"


@pytest.fixture
def october(tenant):
    with time_machine.travel(datetime(2025, 10, 15, tzinfo=UTC), tick=True):
        return spend_settled(tenant.employee, "40.00")


def test_finance_closes_with_confirmation_and_an_org_admin_reopens(tenant, october):
    finance = signed_in_client(tenant.finance)
    page = finance.get(MONTHS).content.decode()
    assert "2025-10" in page and "I confirm" in page
    unconfirmed = finance.post(MONTHS, {"month": "2025-10", "act": "close"})
    assert unconfirmed.status_code == 200 and not MonthClose.objects.exists()
    closed = finance.post(MONTHS, {"month": "2025-10", "act": "close", "confirm": "on"}, follow=True)
    assert "2025-10 is closed." in closed.content.decode()
    assert MonthClose.objects.get().acted_by == tenant.finance

    refused = finance.post(MONTHS, {"month": "2025-10", "act": "reopen", "reason": "Late", "confirm": "on"})
    assert "Only an org admin reopens" in refused.content.decode()
    reopened = signed_in_client(tenant.admin).post(
        MONTHS, {"month": "2025-10", "act": "reopen", "reason": "Late invoice", "confirm": "on"}, follow=True
    )
    assert "2025-10 is reopened." in reopened.content.decode()
    assert [act.act for act in MonthClose.objects.order_by("id")] == ["closed", "reopened"]
    assert "Late invoice" in signed_in_client(tenant.admin).get("/admin/ledger/monthclose/").content.decode()


def test_the_page_is_finance_only(tenant, system_admin):
    assert signed_in_client(tenant.finance).get(MONTHS).status_code == 200
    assert signed_in_client(system_admin).get(MONTHS).status_code == 403


def test_the_command_closes_a_month_and_names_what_keeps_it_open(tenant, october):
    arguments = ["--organization", tenant.organization.slug, "--month", "2025-10", "--as", tenant.finance.email]
    with time_machine.travel(datetime(2025, 10, 31, 20, tzinfo=UTC), tick=True):
        waiting = spend_submit(tenant.employee, "3.00")
        with pytest.raises(CommandError, match="has not ended"):
            call_command("close_month", *arguments)
    with pytest.raises(CommandError, match=f"pending or awaiting approval.*{waiting.id}"):
        call_command("close_month", *arguments)
    with pytest.raises(CommandError, match="--as must name a finance manager"):
        call_command("close_month", *arguments[:-1], tenant.employee.email)
    with pytest.raises(CommandError, match="No organization"):
        call_command("close_month", "--organization", "nowhere", *arguments[2:])
    assert not MonthClose.objects.exists()

    with time_machine.travel(datetime(2025, 11, 3, tzinfo=UTC), tick=True):
        spend_settled(tenant.employee, "1.00")  # settles the waiting spend too, in November
    out = StringIO()
    call_command("close_month", *arguments, stdout=out)
    assert f"Closed 2025-10 of '{tenant.organization.slug}': 2 entries, 4000 debited" in out.getvalue()
