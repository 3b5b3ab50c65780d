"""Spend rules in the back office: added, changed and deleted through the services (a version and an
audit event each time), refused beside the field at fault, scoped to the organization; versions read-only."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.controls.models import SpendPolicyVersion, SpendRule
from tests.controls.conftest import rule
from tests.factories import login_verified

RULES = "/admin/controls/spendrule/"
VERSIONS = "/admin/controls/spendpolicyversion/"


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def rule_form(**fields) -> dict:
    return {
        "name": "No gambling",
        "kind": "blocked_category",
        "is_active": "on",
        "category": " Gambling",
        "merchant": "",
        "amount": "",
        "period": "",
        "department": "",
        "role": "",
        "employee": "",
        "start": "",
        "end": "",
        **fields,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("editor", ["admin", "finance"])
def test_finance_managers_and_org_admins_add_a_rule_through_the_service(tenant, editor):
    user = getattr(tenant, editor)
    client = admin_client(user)
    form = client.get(f"{RULES}add/").content.decode()
    assert 'name="amount"' in form and 'name="weekdays"' in form and 'name="organization"' not in form

    response = client.post(f"{RULES}add/", rule_form())

    assert response.status_code == 302, response.content.decode()[:2000]
    made = SpendRule.objects.get()
    assert (made.organization, made.category) == (tenant.organization, "gambling")  # the service's normal form
    version = SpendPolicyVersion.objects.get()
    assert (version.number, version.changed_by, [r["id"] for r in version.rules]) == (1, user, [str(made.id)])
    assert AuditEvent.objects.get(action=AuditEvent.Action.SPEND_RULE_CREATED).actor == user
    listing = client.get(RULES).content.decode()
    assert "The category &#x27;gambling&#x27; is blocked." in listing


@pytest.mark.django_db
def test_hours_and_amounts_are_read_as_the_api_reads_them(tenant):
    client = admin_client(tenant.admin)
    hours = client.post(
        f"{RULES}add/",
        rule_form(
            name="Office", kind="allowed_hours", category="", start="08:30", end="24:00", weekdays=["fri", "mon"]
        ),
    )
    assert hours.status_code == 302
    limit = client.post(
        f"{RULES}add/", rule_form(name="Cap", kind="employee_limit", category="", amount="99.50", period="month")
    )
    assert limit.status_code == 302
    made = {rule.name: rule for rule in SpendRule.objects.all()}
    assert (made["Office"].from_minute, made["Office"].until_minute, made["Office"].weekdays) == (
        510,
        1440,
        ["mon", "fri"],
    )
    assert (made["Cap"].amount_minor, made["Cap"].period) == (9_950, "month")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"category": ""}, "Required for a blocked category rule."),
        ({"amount": "5.00"}, "Not used by a blocked category rule."),
        ({"kind": "employee_limit", "category": "", "amount": "1e3", "period": "day"}, "plain positive decimal"),
        ({"kind": "allowed_hours", "category": "", "start": "25:00", "end": "26:00", "weekdays": ["mon"]}, "HH:MM"),
        (
            {"kind": "allowed_hours", "category": "", "start": "18:00", "end": "08:00", "weekdays": ["mon"]},
            "The end must come after the start",
        ),
        ({"name": "  "}, "This field is required."),
    ],
)
def test_a_rule_ledgerx_would_not_apply_is_refused_beside_its_field(tenant, fields, error):
    response = admin_client(tenant.admin).post(f"{RULES}add/", rule_form(**fields))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SpendRule.objects.exists() and not SpendPolicyVersion.objects.exists()


@pytest.mark.django_db
def test_a_rule_is_changed_and_deleted_through_the_service_and_keeps_its_kind(tenant):
    made = rule(tenant, "employee_limit", "Daily", amount_minor=10_000, period="day")
    client = admin_client(tenant.finance)
    page = client.get(f"{RULES}{made.id}/change/").content.decode()
    assert 'value="100.00"' in page and 'name="kind"' not in page  # the kind is read-only

    changed = client.post(
        f"{RULES}{made.id}/change/", rule_form(name="Daily", category="", amount="150.00", period="day")
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    made.refresh_from_db()
    assert (made.kind, made.amount_minor) == ("employee_limit", 15_000)
    assert SpendPolicyVersion.objects.get(number=2).rules[0]["amount_minor"] == 15_000
    event = AuditEvent.objects.get(action=AuditEvent.Action.SPEND_RULE_UPDATED)
    assert (event.actor, event.before["amount_minor"]) == (tenant.finance, 10_000)

    assert client.post(f"{RULES}{made.id}/delete/", {"post": "yes"}).status_code == 302
    assert not SpendRule.objects.exists()
    assert SpendPolicyVersion.objects.get(number=3).rules == []
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SPEND_RULE_DELETED).count() == 1


@pytest.mark.django_db
def test_rules_and_versions_are_scoped_to_the_organization(tenant, other_tenant, system_admin):
    rule(tenant, "blocked_category", "Acme gambling", category="gambling")
    theirs = rule(other_tenant, "blocked_category", "Globex gambling", category="gambling")
    client = admin_client(tenant.admin)
    listing = client.get(RULES).content.decode()
    assert "Acme gambling" in listing and "Globex gambling" not in listing
    assert client.get(f"{RULES}{theirs.id}/change/").status_code == 302  # "does not exist"
    client.post(f"{RULES}{theirs.id}/delete/", {"post": "yes"})
    assert SpendRule.objects.filter(id=theirs.id).exists()
    versions = client.get(VERSIONS).content.decode()
    assert "Rule &#x27;Acme gambling&#x27; added." in versions and "Globex" not in versions

    everything = admin_client(system_admin).get(RULES).content.decode()
    assert "Acme gambling" in everything and "Globex gambling" in everything
    assert admin_client(tenant.employee).get(RULES).status_code == 302  # to the admin login


@pytest.mark.django_db
def test_a_version_shows_its_rules_in_words_and_cannot_be_changed(tenant):
    rule(tenant, "blocked_merchant", "No casinos", merchant="*casino*")
    version = SpendPolicyVersion.objects.get()
    client = admin_client(tenant.admin)
    page = client.get(f"{VERSIONS}{version.id}/change/").content.decode()
    assert "<strong>No casinos</strong>: Merchants matching &#x27;*casino*&#x27; are blocked." in page
    assert client.post(f"{VERSIONS}{version.id}/change/", {"change": "forged"}).status_code == 403
    assert client.get(f"{VERSIONS}add/").status_code == 403
    assert client.post(f"{VERSIONS}{version.id}/delete/", {"post": "yes"}).status_code == 403
    assert SpendPolicyVersion.objects.get().change == "Rule 'No casinos' added."
