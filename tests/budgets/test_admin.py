import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.audit.models import AuditEvent
from tests.factories import login_verified
from tests.spends import period_now, spend_settled


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db(transaction=True)  # settlement takes an advisory lock outside any transaction
def test_budget_periods_show_spent_and_limit_of_the_organization_only(tenant, other_tenant):
    spend_settled(user=tenant.employee, amount="6000.00")
    spend_settled(user=other_tenant.employee, amount="7777.00")

    listing = admin_client(tenant.finance).get("/admin/budgets/budgetperiod/").content.decode()

    assert "$6,000" in listing and "$50,000" in listing and "$44,000" in listing and "12%" in listing
    assert "$7,777" not in listing


@pytest.mark.django_db(transaction=True)  # the limit change takes the settlement lock outside any transaction
def test_setting_a_limit_goes_through_the_service_and_warns_below_what_is_spent(tenant):
    spend_settled(user=tenant.employee, amount="6000.00")
    period = period_now(tenant.department)
    client = admin_client(tenant.finance)
    select = {"action": "set_limit", ACTION_CHECKBOX_NAME: [str(period.pk)]}
    assert '<option value="set_limit">' in client.get("/admin/budgets/budgetperiod/").content.decode()

    form_page = client.post("/admin/budgets/budgetperiod/", select)
    assert form_page.status_code == 200 and 'name="limit"' in form_page.content.decode()
    request_id = form_page.context["form"]["request_id"].value()

    bad = client.post(
        "/admin/budgets/budgetperiod/", {**select, "apply": "yes", "limit": "1e5", "request_id": request_id}
    )
    assert bad.status_code == 302
    period.refresh_from_db()
    assert period.limit_minor == 5_000_000

    done = client.post(
        "/admin/budgets/budgetperiod/", {**select, "apply": "yes", "limit": "5000.00", "request_id": request_id}
    )
    messages = [str(m) for m in done.wsgi_request._messages]
    period.refresh_from_db()
    assert period.limit_minor == 500_000
    assert any("the limit is now $5,000" in m for m in messages)
    assert any("below what is already spent" in m for m in messages)

    # The back office records who set it, as the API does, with the values before and after.
    event = AuditEvent.objects.get(action=AuditEvent.Action.BUDGET_LIMIT_SET, target_id=str(period.pk))
    assert (event.actor_id, event.actor_email) == (tenant.finance.id, tenant.finance.email)
    assert (event.before["limit_minor"], event.after["limit_minor"]) == (5_000_000, 500_000)


@pytest.mark.django_db
def test_employees_and_system_admins_do_not_set_limits(tenant, system_admin):
    assert admin_client(tenant.employee).get("/admin/budgets/budgetperiod/").status_code == 302
    assert (
        '<option value="set_limit">'
        not in admin_client(system_admin).get("/admin/budgets/budgetperiod/").content.decode()
    )
