"""Freezing a user's spending (finance, on a fraud verdict) and lifting it (org admins), audited through
the administration_changed signal; through the services, the API and the back office. What a freeze
does to spending: tests/spending/test_frozen_spender.py and test_fraud_review.py.
"""

import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.audit.models import AuditEvent
from apps.tenancy import services as tenancy_services
from ledgerx.errors import Forbidden, NotFound
from tests.factories import login_verified

SPEND = {"amount": "20.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def frozen(tenant):
    return tenancy_services.user_freeze(actor=tenant.finance, user=tenant.employee, reason="Card stolen.")


def audited() -> list[str]:
    events = AuditEvent.objects.filter(action__in=[AuditEvent.Action.USER_FROZEN, AuditEvent.Action.USER_UNFROZEN])
    return sorted(events.values_list("action", flat=True))


def unfreeze_url(user) -> str:
    return f"/api/v1/users/{user.id}/unfreeze"


def browser(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.mark.django_db
def test_a_user_frozen_twice_stays_frozen_as_first_frozen(tenant):
    first = frozen(tenant)
    again = tenancy_services.user_freeze(actor=tenant.admin, user=tenant.employee, reason="Another reason.")
    assert (again.frozen_at, again.frozen_reason, again.frozen_by) == (first.frozen_at, "Card stolen.", tenant.finance)
    assert audited() == ["user.frozen"]


@pytest.mark.django_db
def test_only_finance_of_the_users_organization_freezes(tenant, other_tenant):
    with pytest.raises(Forbidden):
        tenancy_services.user_freeze(actor=tenant.other_employee, user=tenant.employee, reason="x")
    with pytest.raises(NotFound):
        tenancy_services.user_freeze(actor=other_tenant.finance, user=tenant.employee, reason="x")
    tenant.employee.refresh_from_db()
    assert tenant.employee.frozen_at is None


@pytest.mark.django_db
def test_an_org_admin_unfreezes_saying_why_and_it_is_audited(api, tenant):
    employee = frozen(tenant)
    response = api(tenant.admin).post(unfreeze_url(employee), {"reason": "Card replaced."}, format="json")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["frozen"]) == (str(employee.id), None)
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_UNFROZEN)
    assert (event.actor, event.target_id) == (tenant.admin, str(employee.id))
    assert (event.before["frozen_reason"], event.before["frozen_by"]) == ("Card stolen.", str(tenant.finance.id))
    assert event.after == {"frozen_at": None, "frozen_reason": "", "frozen_by": None, "reason": "Card replaced."}
    spend = api(employee).post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert spend.status_code == 202


@pytest.mark.django_db
def test_only_an_org_admin_of_the_organization_unfreezes(api, tenant, other_tenant, system_admin):
    employee = frozen(tenant)
    for user in (tenant.finance, tenant.employee, system_admin):
        assert api(user).post(unfreeze_url(employee), {"reason": "x"}, format="json").status_code == 403
    assert api(None).post(unfreeze_url(employee), {"reason": "x"}, format="json").status_code == 401
    assert api(other_tenant.admin).post(unfreeze_url(employee), {"reason": "x"}, format="json").status_code == 404
    employee.refresh_from_db()
    assert employee.frozen_at is not None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.USER_UNFROZEN).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "reason"), ({"reason": "  "}, "reason"), ({"reason": 5}, "reason"), ({"reason": "x", "now": 1}, "now")],
)
def test_bad_unfreeze_input_answers_400(api, tenant, body, field):
    employee = frozen(tenant)
    response = api(tenant.admin).post(unfreeze_url(employee), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    employee.refresh_from_db()
    assert employee.frozen_at is not None


@pytest.mark.django_db
def test_unfreezing_a_user_who_is_not_frozen_is_a_conflict(api, tenant):
    response = api(tenant.admin).post(unfreeze_url(tenant.employee), {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == f"{tenant.employee.email}'s spending is not frozen."


@pytest.mark.django_db
def test_an_org_admin_unfreezes_in_the_back_office(tenant, system_admin):
    employee = frozen(tenant)
    client = browser(tenant.admin)
    listing = client.get("/admin/tenancy/user/", {"frozen_at__isempty": "0"})
    assert list(listing.context["cl"].queryset) == [employee]
    data = {"action": "unfreeze", ACTION_CHECKBOX_NAME: [str(employee.id)]}
    form_page = client.post("/admin/tenancy/user/", data)
    assert 'name="reason"' in form_page.content.decode()
    done = client.post(
        "/admin/tenancy/user/",
        {
            **data,
            "apply": "yes",
            "reason": "Card replaced.",
            "request_id": form_page.context["form"]["request_id"].value(),
        },
    )
    assert _messages(done) == [f"{employee.email} may spend again."]
    employee.refresh_from_db()
    assert employee.frozen_at is None
    assert AuditEvent.objects.get(action=AuditEvent.Action.USER_UNFROZEN).after["reason"] == "Card replaced."
    # Nobody else is offered the action: finance managers have no user list, system admins do not unfreeze.
    assert browser(tenant.finance).get("/admin/tenancy/user/").status_code == 403
    assert '<option value="unfreeze">' not in browser(system_admin).get("/admin/tenancy/user/").content.decode()
