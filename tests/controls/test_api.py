"""/api/v1/spend-policies: the policy in force and its rules, read and changed by finance; each change
writes the next version and an audit event; bad input is a 400 naming the field and changes nothing."""

import pytest

from apps.audit.models import AuditEvent
from apps.controls.models import SpendPolicyVersion, SpendRule
from apps.tenancy.models import Role
from tests.controls.conftest import rule

POLICY = "/api/v1/spend-policies"
RULES = "/api/v1/spend-policies/rules"

VALID = {
    "blocked_category": {"category": "Gambling"},
    "blocked_merchant": {"merchant": "*casino*"},
    "employee_limit": {"amount": "500.00", "period": "day", "role": "employee"},
    "category_limit": {"category": "travel", "amount": "10000.00"},  # plus the department, below
    "allowed_hours": {"start": "08:00", "end": "24:00", "weekdays": ["fri", "mon"]},
    "description_required_above": {"amount": "250.00"},
    "receipt_required_above": {"amount": "75.00"},
}


def body(tenant, kind: str, **changes) -> dict:
    fields = {"name": f"A {kind} rule", "kind": kind, **VALID[kind], **changes}
    if kind == "category_limit":
        fields.setdefault("department", str(tenant.department.id))
    return fields


def nothing_changed():
    assert not SpendRule.objects.exists()
    assert not SpendPolicyVersion.objects.exists()
    assert not AuditEvent.objects.filter(target_type="controls.spendrule").exists()


@pytest.mark.django_db
def test_the_policy_starts_at_version_zero_with_no_rule(api, tenant):
    response = api(tenant.finance).get(POLICY)
    assert response.status_code == 200
    assert response.json() == {"version": 0, "changed_at": None, "changed_by": None, "rules": []}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(VALID))
def test_finance_adds_a_rule_of_each_kind_and_the_version_moves(api, tenant, kind):
    response = api(tenant.finance).post(RULES, body(tenant, kind), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == kind and created["policy_version"] == 1 and created["is_active"] is True
    policy = api(tenant.admin).get(POLICY).json()
    assert policy["version"] == 1 and policy["changed_by"] == tenant.finance.email
    assert [rule["id"] for rule in policy["rules"]] == [created["id"]]
    version = SpendPolicyVersion.objects.get()
    assert [rule["id"] for rule in version.rules] == [created["id"]]
    event = AuditEvent.objects.get(action=AuditEvent.Action.SPEND_RULE_CREATED)
    assert event.actor == tenant.finance and event.target_id == created["id"]
    assert event.after["policy_version"] == 1


@pytest.mark.django_db
def test_a_rule_reads_back_as_written_with_its_words(api, tenant):
    client = api(tenant.admin)
    hours = client.post(RULES, body(tenant, "allowed_hours", name="Office hours"), format="json").json()
    assert {key: hours[key] for key in ("start", "end", "weekdays", "amount", "category", "text")} == {
        "start": "08:00",
        "end": "24:00",
        "weekdays": ["mon", "fri"],
        "amount": None,
        "category": None,
        "text": "Spending is allowed Mon, Fri, 08:00-24:00 (UTC).",
    }
    limit = client.post(RULES, body(tenant, "category_limit"), format="json").json()
    assert limit["amount"] == "10000.00" and limit["currency"] == "USD"
    assert limit["text"] == "At most $10,000 a month of 'travel' in Engineering and below."
    assert client.get(f"{RULES}/{limit['id']}").json() == {
        key: value for key, value in limit.items() if key != "policy_version"
    }
    blocked = client.post(RULES, body(tenant, "blocked_category"), format="json").json()
    assert blocked["category"] == "gambling"  # as spends are: trimmed and lower-cased


@pytest.mark.django_db
def test_a_rule_is_changed_in_place_and_each_change_is_a_version(api, tenant):
    client = api(tenant.admin)
    created = client.post(RULES, body(tenant, "employee_limit"), format="json").json()
    changed = client.patch(f"{RULES}/{created['id']}", {"amount": "750.00", "is_active": False}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["amount"] == "750.00" and changed.json()["policy_version"] == 2
    assert changed.json()["is_active"] is False and changed.json()["period"] == "day"
    assert SpendPolicyVersion.objects.get(number=2).rules == []  # an inactive rule is not in force
    event = AuditEvent.objects.get(action=AuditEvent.Action.SPEND_RULE_UPDATED)
    assert (event.before["amount_minor"], event.after["amount_minor"]) == (50_000, 75_000)

    assert client.delete(f"{RULES}/{created['id']}").status_code == 204
    assert not SpendRule.objects.exists()
    assert client.get(POLICY).json()["version"] == 3
    deleted = AuditEvent.objects.get(action=AuditEvent.Action.SPEND_RULE_DELETED)
    assert deleted.target_id == created["id"] and deleted.after == {"policy_version": 3}
    assert SpendPolicyVersion.objects.get(number=1).rules[0]["amount_minor"] == 50_000  # history stays


@pytest.mark.django_db
def test_only_finance_managers_and_org_admins_read_and_change_the_policy(api, tenant, system_admin):
    made = rule(tenant, "blocked_category", category="gambling")
    for user, expected in ((tenant.employee, 403), (system_admin, 403), (None, 401)):
        client = api(user)
        assert client.get(POLICY).status_code == expected
        assert client.post(RULES, body(tenant, "blocked_merchant"), format="json").status_code == expected
        assert client.get(f"{RULES}/{made.id}").status_code == expected
        assert client.patch(f"{RULES}/{made.id}", {"name": "x"}, format="json").status_code == expected
        assert client.delete(f"{RULES}/{made.id}").status_code == expected
    assert SpendRule.objects.get().name == made.name
    assert SpendPolicyVersion.objects.count() == 1


@pytest.mark.django_db
def test_another_tenants_rules_and_objects_are_not_found(api, tenant, other_tenant):
    theirs = rule(other_tenant, "blocked_category", category="gambling")
    client = api(tenant.admin)
    assert client.get(f"{RULES}/{theirs.id}").status_code == 404
    assert client.patch(f"{RULES}/{theirs.id}", {"name": "Mine now"}, format="json").status_code == 404
    assert client.delete(f"{RULES}/{theirs.id}").status_code == 404
    other_department = body(tenant, "category_limit", department=str(other_tenant.department.id))
    assert client.post(RULES, other_department, format="json").status_code == 404
    other_employee = body(tenant, "employee_limit", role="", employee=str(other_tenant.employee.id))
    assert client.post(RULES, other_employee, format="json").status_code == 404
    assert client.get(POLICY).json()["rules"] == []
    assert SpendRule.objects.get() == theirs and SpendPolicyVersion.objects.count() == 1


BAD_INPUT = [
    pytest.param("blocked_category", {"colour": "red"}, "colour", id="unknown field"),
    pytest.param("blocked_category", {"kind": "blocked_everything"}, "kind", id="unknown kind"),
    pytest.param("blocked_category", {"amount": "100.00"}, "amount", id="a field the kind does not use"),
    pytest.param("blocked_category", {"category": ""}, "category", id="blank category"),
    pytest.param("category_limit", {"department": None}, "department", id="a field the kind needs"),
    pytest.param("blocked_category", {"name": "  "}, "name", id="blank name"),
    pytest.param("employee_limit", {"amount": "0"}, "amount", id="zero amount"),
    pytest.param("employee_limit", {"amount": "5.001"}, "amount", id="three decimals"),
    pytest.param("employee_limit", {"amount": 500}, "amount", id="amount as a number"),
    pytest.param("employee_limit", {"period": "week"}, "period", id="unknown period"),
    pytest.param("employee_limit", {"role": "system_admin"}, "role", id="bad role"),
    pytest.param("blocked_merchant", {"merchant": "**"}, "merchant", id="wildcards only"),
    pytest.param("allowed_hours", {"start": "8:00"}, "start", id="time without two digits"),
    pytest.param("allowed_hours", {"end": "24:01"}, "end", id="past midnight"),
    pytest.param("allowed_hours", {"start": "18:00", "end": "08:00"}, "end", id="end before start"),
    pytest.param("allowed_hours", {"weekdays": ["funday"]}, "weekdays", id="unknown weekday"),
    pytest.param("allowed_hours", {"weekdays": []}, "weekdays", id="no weekday"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "changes", "field_name"), BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(api, tenant, kind, changes, field_name):
    response = api(tenant.admin).post(RULES, {**body(tenant, kind), **changes}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field_name in error["fields"]
    nothing_changed()


@pytest.mark.django_db
def test_a_limit_names_a_role_or_an_employee_not_both(api, tenant):
    both = body(tenant, "employee_limit", employee=str(tenant.employee.id))
    response = api(tenant.admin).post(RULES, both, format="json")
    assert response.status_code == 400 and "employee" in response.json()["error"]["fields"]
    nothing_changed()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"kind": "blocked_merchant"}, "kind"),
        ({"amount": "5.00"}, "amount"),
        ({"category": ""}, "category"),
        ({"surprise": True}, "surprise"),
        ({}, None),
    ],
)
def test_a_bad_change_is_a_400_and_leaves_the_rule_and_the_version(api, tenant, changes, field_name):
    made = rule(tenant, "blocked_category", category="gambling")
    response = api(tenant.admin).patch(f"{RULES}/{made.id}", changes, format="json")
    assert response.status_code == 400, response.content
    if field_name:
        assert field_name in response.json()["error"]["fields"]
    assert SpendRule.objects.get().category == "gambling"
    assert SpendPolicyVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SPEND_RULE_UPDATED).exists()


@pytest.mark.django_db
def test_a_finance_managers_change_is_theirs_in_the_log(api, tenant):
    made = rule(tenant, "blocked_category", category="gambling", actor=tenant.admin)
    api(tenant.user(Role.FINANCE_MANAGER)).patch(f"{RULES}/{made.id}", {"name": "No betting"}, format="json")
    version = SpendPolicyVersion.objects.get(number=2)
    assert version.changed_by == tenant.finance and version.change == "Rule 'No betting' changed."
