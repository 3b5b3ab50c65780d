"""Fraud review that acts (apps/spending/fraud_review.py): a fraud verdict reverses the spend and freezes
its spender, each a separate, audited choice, through the API and the back office; the frozen spender's
next spend is refused. The rest of a freeze: tests/spending/test_frozen_spender.py, tests/tenancy/test_freeze.py.

transaction=True where a spend is settled or reversed: both take the settlement lock outside any transaction.
"""

import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.audit.models import AuditEvent
from apps.fraud import services as fraud_services
from apps.fraud.detectors import Finding
from apps.fraud.models import FraudAlert, Rule
from apps.ledger.models import Transaction
from apps.tenancy.models import Role
from tests.factories import login_verified
from tests.fraud.conftest import make_spend, score
from tests.spends import period_now, spend_settled, spend_submit

FINANCE = (Role.FINANCE_MANAGER, Role.ORG_ADMIN)
SPEND = {"amount": "20.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
ACTING = {"resolution": "fraud", "reverse_spend": True, "freeze_employee": True}


def resolve_url(alert) -> str:
    return f"/api/v1/fraud/alerts/{alert.id}/resolve"


def casino(tenant, amount: str = "500.00"):
    """A $500 gambling spend at Lucky Casino, posted, and its open blocked_category alert."""
    spend = spend_settled(tenant.employee, amount, merchant="Lucky Casino", category="gambling")
    score(spend)
    return spend, FraudAlert.objects.get(transaction=spend)


def casino_row(tenant, status: str = Transaction.Status.POSTED):
    """The same spend written straight as the row settlement leaves (no budget touched), and its alert."""
    spend = make_spend(tenant.employee, 50_000, merchant="Lucky Casino", category="gambling", status=status)
    score(spend)
    return spend, FraudAlert.objects.get(transaction=spend)


REVIEW_ACTIONS = ("fraud_alert.resolved", "transaction.reversed", "user.frozen", "user.unfrozen")


def audited(**filters) -> list[str]:
    """The review's audit events (setting up the tenant records its department too)."""
    events = AuditEvent.objects.filter(action__in=REVIEW_ACTIONS, **filters)
    return sorted(events.values_list("action", flat=True))


def submit(api, user, key: str | None = None):
    return api(user).post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


# The verdict through the API


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", FINANCE)
def test_a_fraud_verdict_reverses_the_spend_and_freezes_the_spender_each_audited(api, tenant, role):
    spend, alert = casino(tenant)
    reviewer = tenant.user(role)
    assert period_now(tenant.department).spent_minor == 50_000

    response = api(reviewer).post(resolve_url(alert), {**ACTING, "note": "Not a business expense."}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    reversal = Transaction.objects.get(reversal_of=spend)
    assert (body["status"], body["resolution"], body["note"]) == ("resolved", "fraud", "Not a business expense.")
    assert (body["reversal"], body["employee_frozen"]) == (str(reversal.id), True)
    spend.refresh_from_db()
    assert spend.status == Transaction.Status.REVERSED
    assert (reversal.idempotency_key, reversal.reason) == (
        f"fraud-alert:{alert.id}",
        f"Fraud confirmed on alert {alert.id} (blocked_category).",
    )
    assert period_now(tenant.department).spent_minor == 0  # the money is back
    employee = tenant.employee
    employee.refresh_from_db()
    assert employee.frozen_by == reviewer
    assert employee.frozen_reason == (
        f"Fraud confirmed by {reviewer.email} on the $500 spend at Lucky Casino (alert {alert.id}, blocked_category)."
    )
    # Three choices, three events, each by the reviewer.
    assert audited(actor=reviewer) == ["fraud_alert.resolved", "transaction.reversed", "user.frozen"]
    frozen_event = AuditEvent.objects.get(action=AuditEvent.Action.USER_FROZEN)
    assert (frozen_event.target_id, frozen_event.before["frozen_at"]) == (str(employee.id), None)
    assert frozen_event.after["frozen_reason"] == employee.frozen_reason

    # The employee's next spend is refused, saying why; nothing is recorded. They still read.
    refused = submit(api, employee)
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": f"Spending by {employee.email} is frozen: {employee.frozen_reason} "
        "An org admin can lift the freeze.",
        "fields": {},
    }
    assert Transaction.objects.filter(employee=employee, kind=Transaction.Kind.SPEND).count() == 1
    reader = api(employee)
    assert reader.get("/api/v1/transactions").status_code == 200
    assert reader.get("/api/v1/me").json()["frozen"]["reason"] == employee.frozen_reason


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("reverse_spend", "freeze_employee"), [(True, False), (False, True), (False, False)])
def test_reversing_and_freezing_are_separate_choices(api, tenant, reverse_spend, freeze_employee):
    spend, alert = casino(tenant)
    body = {"resolution": "fraud", "reverse_spend": reverse_spend, "freeze_employee": freeze_employee}
    answer = api(tenant.finance).post(resolve_url(alert), body, format="json").json()
    spend.refresh_from_db()
    tenant.employee.refresh_from_db()
    assert (spend.status == Transaction.Status.REVERSED, answer["reversal"] is not None) == (reverse_spend,) * 2
    assert (tenant.employee.frozen_at is not None, answer["employee_frozen"]) == (freeze_employee,) * 2
    expected = ["fraud_alert.resolved"]
    expected += ["transaction.reversed"] * reverse_spend + ["user.frozen"] * freeze_employee
    assert audited() == sorted(expected)


@pytest.mark.django_db(transaction=True)
def test_repeating_a_review_reverses_nothing_twice(api, tenant):
    spend, alert = casino(tenant)
    client = api(tenant.finance)
    assert client.post(resolve_url(alert), ACTING, format="json").status_code == 200
    again = client.post(resolve_url(alert), ACTING, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "This alert was already resolved as fraud."
    assert Transaction.objects.filter(reversal_of=spend).count() == 1
    assert audited() == ["fraud_alert.resolved", "transaction.reversed", "user.frozen"]


@pytest.mark.django_db(transaction=True)
def test_a_spend_already_reversed_stays_reversed_when_its_next_alert_is_resolved(api, tenant):
    spend, first = casino(tenant)
    finding = Finding(rule=Rule.VELOCITY_AMOUNT, score=1.2, detail="$3,000 spent in 2 spends within 10 minutes.")
    [second] = fraud_services.alerts_insert(spend=spend, findings=[finding])
    client = api(tenant.finance)
    reversal = client.post(resolve_url(first), ACTING, format="json").json()["reversal"]
    answer = client.post(resolve_url(second), ACTING, format="json")
    assert answer.status_code == 200
    assert (answer.json()["reversal"], answer.json()["employee_frozen"]) == (reversal, True)
    assert Transaction.objects.filter(reversal_of=spend).count() == 1
    assert audited(action=AuditEvent.Action.USER_FROZEN) == ["user.frozen"]  # frozen once, as first frozen


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Transaction.Status.REJECTED, "Only a posted spend can be reversed; this one is rejected."),
        (
            Transaction.Status.AWAITING_APPROVAL,
            "This spend is awaiting approval, not posted: there is nothing to reverse yet. Reject it at its approval; "
            "a frozen employee's spend cannot be approved.",
        ),
    ],
)
def test_a_spend_not_posted_cannot_be_reversed_and_the_review_changes_nothing(api, tenant, status, message):
    _, alert = casino_row(tenant, status=status)
    response = api(tenant.finance).post(resolve_url(alert), ACTING, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == message
    alert.refresh_from_db()
    tenant.employee.refresh_from_db()
    assert (alert.status, tenant.employee.frozen_at) == ("open", None)  # the freeze asked with it did not happen
    assert audited() == []


@pytest.mark.django_db(transaction=True)
def test_a_reversal_key_taken_by_another_transaction_is_refused(api, tenant):
    spend, alert = casino(tenant)
    spend_submit(tenant.employee, "1.00", key=f"fraud-alert:{alert.id}")
    response = api(tenant.finance).post(resolve_url(alert), ACTING, format="json")
    assert response.status_code == 409
    assert f"The key fraud-alert:{alert.id} is taken" in response.json()["error"]["message"]
    spend.refresh_from_db()
    assert spend.status == Transaction.Status.POSTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"resolution": "legitimate", "reverse_spend": True}, {"reverse_spend"}),
        (
            {"resolution": "legitimate", "reverse_spend": True, "freeze_employee": True},
            {"reverse_spend", "freeze_employee"},
        ),
        ({"resolution": "fraud", "reverse_spend": "maybe"}, {"reverse_spend"}),
        ({"resolution": "fraud", "freeze_employee": None}, {"freeze_employee"}),
        ({"resolution": "fraud", "freeze": True}, {"freeze"}),
        ({"reverse_spend": True}, {"resolution"}),
    ],
)
def test_bad_review_input_answers_400_and_changes_nothing(api, tenant, body, fields):
    _, alert = casino_row(tenant)
    response = api(tenant.finance).post(resolve_url(alert), body, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == fields
    alert.refresh_from_db()
    assert alert.status == "open"


@pytest.mark.django_db
def test_only_finance_of_the_organization_reviews(api, tenant, other_tenant, system_admin):
    _, alert = casino_row(tenant)
    for user in (tenant.employee, system_admin):
        assert api(user).post(resolve_url(alert), ACTING, format="json").status_code == 403
    assert api(None).post(resolve_url(alert), ACTING, format="json").status_code == 401
    another = api(other_tenant.finance).post(resolve_url(alert), ACTING, format="json")
    assert another.status_code == 404
    alert.refresh_from_db()
    tenant.employee.refresh_from_db()
    assert (alert.status, tenant.employee.frozen_at) == ("open", None)


# The back office


def browser(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def _alert_action(client, action: str, alerts, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(alert.id) for alert in alerts], **fields}
    return client.post("/admin/fraud/fraudalert/", data)


def _messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


@pytest.mark.django_db(transaction=True)
def test_the_fraud_action_asks_what_to_stop_then_acts_through_the_service(tenant):
    spend, alert = casino(tenant)
    client = browser(tenant.finance)
    form_page = _alert_action(client, "resolve_fraud", [alert])
    assert form_page.status_code == 200
    page = form_page.content.decode()
    assert 'name="reverse_spend"' in page and 'name="freeze_employee"' in page and 'name="note"' in page

    done = _alert_action(
        client,
        "resolve_fraud",
        [alert],
        apply="yes",
        note="Casino.",
        reverse_spend="on",
        freeze_employee="on",
        request_id=form_page.context["form"]["request_id"].value(),
    )
    assert done.status_code == 302
    assert _messages(done) == [
        f"blocked_category on Lucky Casino $500: resolved as fraud; the spend is reversed; "
        f"{tenant.employee.email}'s spending is frozen."
    ]
    alert.refresh_from_db()
    spend.refresh_from_db()
    assert (alert.resolution, alert.note, spend.status) == ("fraud", "Casino.", Transaction.Status.REVERSED)
    assert audited(actor=tenant.finance) == ["fraud_alert.resolved", "transaction.reversed", "user.frozen"]


@pytest.mark.django_db
def test_the_fraud_action_without_choices_only_resolves(tenant):
    spend, alert = casino_row(tenant)
    done = _alert_action(browser(tenant.admin), "resolve_fraud", [alert], apply="yes", request_id=str(uuid.uuid4()))
    assert _messages(done) == ["blocked_category on Lucky Casino $500: resolved as fraud."]
    spend.refresh_from_db()
    tenant.employee.refresh_from_db()
    assert (spend.status, tenant.employee.frozen_at) == (Transaction.Status.POSTED, None)
    assert audited() == ["fraud_alert.resolved"]


@pytest.mark.django_db
def test_system_admins_resolve_in_the_back_office_but_do_not_freeze(tenant, system_admin):
    _, alert = casino_row(tenant)
    client = browser(system_admin)
    refused = _alert_action(
        client, "resolve_fraud", [alert], apply="yes", freeze_employee="on", request_id=str(uuid.uuid4())
    )
    assert _messages(refused) == [
        "blocked_category on Lucky Casino $500: Only the organization's finance managers and org admins reverse "
        "spends or freeze employees."
    ]
    alert.refresh_from_db()
    assert alert.status == "open"
    _alert_action(client, "resolve_fraud", [alert], apply="yes", request_id=str(uuid.uuid4()))
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by) == ("resolved", system_admin)
