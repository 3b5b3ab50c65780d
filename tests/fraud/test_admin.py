"""The fraud back office: scoped to the staff user's organization, resolving through the service."""

from django.test import Client

from apps.fraud.models import FraudAlert, FraudSettings
from tests.factories import login_verified
from tests.fraud.conftest import make_spend, score


def alert_of(tenant) -> FraudAlert:
    spend = make_spend(tenant.employee, 5000, category="gambling")
    score(spend)
    return FraudAlert.objects.get(transaction=spend)


def browser(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_finance_lists_only_their_organizations_alerts(tenant, other_tenant):
    own, foreign = alert_of(tenant), alert_of(other_tenant)
    response = browser(tenant.finance).get("/admin/fraud/fraudalert/")
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [own]
    assert browser(tenant.finance).get(f"/admin/fraud/fraudalert/{foreign.id}/change/").status_code == 302


def test_system_admins_see_every_organizations_alerts(tenant, other_tenant, system_admin):
    alerts = {alert_of(tenant), alert_of(other_tenant)}
    response = browser(system_admin).get("/admin/fraud/fraudalert/")
    assert set(response.context["cl"].queryset) == alerts


def test_resolving_as_legitimate_goes_through_the_service_at_once(tenant):
    alert = alert_of(tenant)
    response = browser(tenant.finance).post(
        "/admin/fraud/fraudalert/", {"action": "resolve_legitimate", "_selected_action": [str(alert.id)]}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.resolution, alert.resolved_by) == ("resolved", "legitimate", tenant.finance)


def test_resolving_as_fraud_first_asks_what_to_stop(tenant):
    """The choices and what they do: tests/spending/test_fraud_review.py."""
    alert = alert_of(tenant)
    response = browser(tenant.finance).post(
        "/admin/fraud/fraudalert/", {"action": "resolve_fraud", "_selected_action": [str(alert.id)]}
    )
    assert response.status_code == 200
    assert 'name="reverse_spend"' in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"


def test_employees_have_no_back_office(tenant):
    assert browser(tenant.employee).get("/admin/fraud/fraudalert/").status_code == 302  # to the login page


def test_org_admins_set_their_thresholds_once_and_edit_them(tenant, other_tenant):
    client = browser(tenant.admin)
    form = client.get("/admin/fraud/fraudsettings/add/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data.update({"velocity_count_limit": "8", "blocked_categories": "gambling,crypto,adult"})
    assert client.post("/admin/fraud/fraudsettings/add/", data).status_code == 302
    saved = FraudSettings.objects.get()
    assert saved.organization == tenant.organization
    assert (saved.velocity_count_limit, saved.blocked_categories) == (8, ["gambling", "crypto", "adult"])
    assert client.get("/admin/fraud/fraudsettings/add/").status_code == 403  # one per organization

    FraudSettings.objects.create(organization=other_tenant.organization)
    listed = client.get("/admin/fraud/fraudsettings/").context["cl"].queryset
    assert list(listed) == [saved]


def test_finance_views_thresholds_but_cannot_change_them(tenant):
    FraudSettings.objects.create(organization=tenant.organization)
    client = browser(tenant.finance)
    url = f"/admin/fraud/fraudsettings/{tenant.organization.id}/change/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"velocity_count_limit": "1"}).status_code == 403
    assert client.get("/admin/fraud/fraudsettings/add/").status_code == 403
