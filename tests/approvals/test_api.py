"""The approvals endpoints: the whole flow through the API with a real worker, the role matrix,
other tenants' ids and bad input. transaction=True: the worker sees only committed rows."""

import pytest

from apps.approvals import services
from apps.ledger.models import Transaction
from apps.tenancy.models import Role
from apps.tenancy.services import department_set_head
from tests.factories import UserFactory
from tests.processes import wait_until
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

SPEND = {"amount": "6000.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
POLICY = {"name": "Large", "min_amount": "5000.00", "levels": ["department_head", "finance_manager"]}


@pytest.fixture
def head(tenant):
    user = UserFactory(role=Role.EMPLOYEE, department=tenant.department)
    department_set_head(actor=None, department=tenant.department, head=user)
    return user


def error_code(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]["code"]


@pytest.mark.slow
def test_the_whole_flow_through_the_api_with_a_real_worker(api, tenant, head, settlement_worker):
    assert api(tenant.admin).post("/api/v1/approval-policies", POLICY, format="json").status_code == 201
    accepted = api(tenant.employee).post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="big")
    spend_id = accepted.json()["id"]

    def status():
        return Transaction.objects.get(id=spend_id).status

    assert wait_until(lambda: status() == Transaction.Status.AWAITING_APPROVAL, timeout=20)
    budget = api(tenant.finance).get(f"/api/v1/departments/{tenant.department.id}/budget").json()
    assert (budget["spent"], budget["held"], budget["available"]) == ("0.00", "6000.00", "44000.00")

    assert api(tenant.finance).get("/api/v1/approvals?status=pending").json()["results"] == []
    waiting = api(head).get("/api/v1/approvals?status=pending").json()["results"]
    assert [w["transaction"]["id"] for w in waiting] == [spend_id]
    approval_id = waiting[0]["id"]
    assert waiting[0]["waiting_for"] == "department_head"

    url = f"/api/v1/approvals/{approval_id}/approve"
    assert error_code(api(tenant.employee).post(url, {}, format="json"), 403) == "forbidden"  # their own spend
    assert error_code(api(tenant.other_employee).post(url, {}, format="json"), 403) == "forbidden"
    first = api(head).post(url, {"note": "ok by me"}, format="json")
    assert first.status_code == 200 and first.json()["waiting_for"] == "finance_manager"
    second = api(tenant.finance).post(url, {}, format="json")
    assert second.status_code == 200 and second.json()["status"] == "approved"
    assert status() == Transaction.Status.POSTED
    assert error_code(api(tenant.admin).post(url, {}, format="json"), 409) == "conflict"
    assert api(tenant.finance).get("/api/v1/ledger/verify").json()["ok"]


def test_reject_needs_a_note_and_other_tenants_get_404(api, tenant, head, other_tenant):
    services.approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=500_000, levels=["finance_manager"]
    )
    spend = spend_submit(tenant.employee, "6000.00")
    settle_all(tenant.organization)
    approval_id = spend.approval.id
    url = f"/api/v1/approvals/{approval_id}/reject"
    assert error_code(api(tenant.finance).post(url, {}, format="json"), 400) == "invalid"
    assert error_code(api(tenant.finance).post(url, [], format="json"), 400) == "invalid"
    assert error_code(api(other_tenant.finance).post(url, {"note": "x"}, format="json"), 404) == "not_found"
    assert error_code(api(tenant.finance).post("/api/v1/approvals/not-a-uuid/reject", {}, format="json"), 404)
    rejected = api(tenant.finance).post(url, {"note": "over budget plan"}, format="json")
    assert rejected.json()["transaction"]["status"] == "rejected"
    assert "over budget plan" in rejected.json()["transaction"]["rejection_reason"]
    assert error_code(api(tenant.finance).get("/api/v1/approvals?status=maybe"), 400) == "invalid"
    assert error_code(api(tenant.finance).get("/api/v1/approvals?status="), 400) == "invalid"
    decided = api(tenant.finance).get("/api/v1/approvals?status=rejected").json()["results"]
    assert [d["id"] for d in decided] == [str(approval_id)]
    assert api(other_tenant.finance).get("/api/v1/approvals?status=rejected").json()["results"] == []


@pytest.mark.parametrize(
    ("role", "get_status", "post_status"),
    [
        (Role.EMPLOYEE, 403, 403),
        (Role.FINANCE_MANAGER, 200, 403),
        (Role.ORG_ADMIN, 200, 201),
    ],
)
def test_policy_role_matrix(api, tenant, role, get_status, post_status):
    client = api(tenant.user(role))
    assert client.get("/api/v1/approval-policies").status_code == get_status
    assert client.post("/api/v1/approval-policies", POLICY, format="json").status_code == post_status


def test_policy_bad_input_other_tenant_and_delete(api, tenant, other_tenant, system_admin):
    admin = api(tenant.admin)
    for change in (
        {"levels": ["ceo"]},
        {"levels": []},
        {"min_amount": "0"},
        {"min_amount": "1e3"},
        {"name": ""},
        {"spender_step": "approve"},
    ):
        assert error_code(admin.post("/api/v1/approval-policies", {**POLICY, **change}, format="json"), 400)
    foreign = {**POLICY, "department": str(other_tenant.department.id)}
    assert error_code(admin.post("/api/v1/approval-policies", foreign, format="json"), 404) == "not_found"
    assert error_code(api(system_admin).get("/api/v1/approval-policies"), 403) == "forbidden"
    created = admin.post("/api/v1/approval-policies", POLICY, format="json").json()
    url = f"/api/v1/approval-policies/{created['id']}"
    assert error_code(api(other_tenant.admin).delete(url), 404) == "not_found"
    assert error_code(api(tenant.finance).delete(url), 403) == "forbidden"
    assert admin.delete(url).status_code == 204
    assert admin.get("/api/v1/approval-policies").json()["results"] == []


def test_a_policy_says_what_a_step_only_the_spender_could_sign_does(api, tenant, head):
    skipping = api(tenant.admin).post("/api/v1/approval-policies", {**POLICY, "spender_step": "skip"}, format="json")
    assert skipping.status_code == 201 and skipping.json()["spender_step"] == "skip"
    default = api(tenant.admin).post("/api/v1/approval-policies", {**POLICY, "name": "Other"}, format="json")
    assert default.json()["spender_step"] == "escalate"
    api(tenant.admin).delete(f"/api/v1/approval-policies/{default.json()['id']}")

    own = api(head).post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY="heads-own")
    settle_all(tenant.organization)
    waiting = api(tenant.finance).get("/api/v1/approvals?status=pending").json()["results"]
    assert [w["transaction"]["id"] for w in waiting] == [own.json()["id"]]
    assert waiting[0]["current_level"] == 1 and waiting[0]["waiting_for"] == "finance_manager"
    assert waiting[0]["routing"][0]["action"] == "skipped"
