"""Approvals in the back office: policies added and deleted through the services, requests scoped and
read-only, and the approve and reject actions signing through approval_decide as the acting user.

Deciding takes the organization's settlement lock outside any transaction, so those tests commit for real.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from apps.approvals import services
from apps.approvals.models import ApprovalPolicy, ApprovalRequest
from apps.audit.models import AuditEvent
from apps.ledger.models import Transaction
from tests.factories import DepartmentFactory, login_verified
from tests.spends import period_now, refreshed, settle_all, spend_submit

POLICIES = "/admin/approvals/approvalpolicy/"
REQUESTS = "/admin/approvals/approvalrequest/"


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def messages_of(response) -> list[str]:
    """The messages the page shows after the action (which also clears them from the session)."""
    return [str(message) for message in response.context["messages"]]


def policy(tenant, levels, min_amount_minor=500_000, name="Large spend") -> ApprovalPolicy:
    return services.approval_policy_create(
        organization=tenant.organization, name=name, min_amount_minor=min_amount_minor, levels=levels
    )


def waiting(user, amount="6000.00", **kwargs) -> ApprovalRequest:
    spend = spend_submit(user, amount, **kwargs)
    settle_all(user.organization)
    assert refreshed(spend).status == Transaction.Status.AWAITING_APPROVAL
    return ApprovalRequest.objects.get(transaction=spend)


def new_policy_form(**fields) -> dict:
    return {
        "name": "Large spend",
        "min_amount": "5000.00",
        "department": "",
        "category": "",
        "step_1": "department_head",
        "step_2": "finance_manager",
        "step_3": "",
        "step_4": "",
        "step_5": "",
        "spender_step": "escalate",  # the select's default, as a browser sends it
        **fields,
    }


@pytest.mark.django_db
def test_an_org_admin_adds_a_policy_through_the_service(tenant):
    client = admin_client(tenant.admin)
    form = client.get(f"{POLICIES}add/").content.decode()
    assert 'name="step_1"' in form and 'name="step_5"' in form and 'name="min_amount"' in form
    assert 'name="spender_step"' in form
    assert 'name="organization"' not in form  # an org admin's policies belong to their organization

    response = client.post(f"{POLICIES}add/", new_policy_form(category=" Travel", department=tenant.department.id))

    assert response.status_code == 302
    created = ApprovalPolicy.objects.get()
    assert (created.organization, created.min_amount_minor, created.levels, created.department, created.category) == (
        tenant.organization,
        500_000,
        ["department_head", "finance_manager"],
        tenant.department,
        "travel",  # the service's normal form, so the admin went through it
    )
    listing = client.get(POLICIES).content.decode()
    assert "$5,000" in listing and "Department head → Finance manager" in listing
    assert "Engineering and below" in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"step_1": "", "step_2": "finance_manager"}, "This field is required."),
        ({"step_2": "", "step_3": "org_admin"}, "Fill the steps in order, from step 1, without gaps."),
        ({"step_1": "ceo"}, "Select a valid choice."),
        ({"min_amount": "0"}, "Amount must be greater than zero."),
        ({"min_amount": "1e5"}, "Amount must be a plain positive decimal"),
        ({"min_amount": "5000.001"}, "USD amounts have at most 2 decimal places."),
        ({"name": "   "}, "This field is required."),
    ],
)
def test_a_policy_ledgerx_would_not_apply_is_refused_beside_its_field(tenant, fields, error):
    response = admin_client(tenant.admin).post(f"{POLICIES}add/", new_policy_form(**fields))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ApprovalPolicy.objects.exists()


@pytest.mark.django_db
def test_policies_are_read_only_once_made_and_deleted_through_the_back_office(tenant):
    made = policy(tenant, ["finance_manager"])
    admin = admin_client(tenant.admin)
    page = admin.get(f"{POLICIES}{made.id}/change/")
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # a read-only view
    assert admin.post(f"{POLICIES}{made.id}/change/", {"name": "Changed"}).status_code == 403

    assert admin.post(f"{POLICIES}{made.id}/delete/", {"post": "yes"}).status_code == 302
    assert not ApprovalPolicy.objects.exists()


@pytest.mark.django_db
def test_finance_managers_read_policies_and_change_nothing(tenant):
    made = policy(tenant, ["finance_manager"])
    finance = admin_client(tenant.finance)
    listing = finance.get(POLICIES).content.decode()
    assert "Large spend" in listing and f"{POLICIES}add/" not in listing
    assert finance.get(f"{POLICIES}{made.id}/change/").status_code == 200
    assert finance.get(f"{POLICIES}add/").status_code == 403
    assert finance.post(f"{POLICIES}add/", new_policy_form()).status_code == 403
    assert finance.post(f"{POLICIES}{made.id}/delete/", {"post": "yes"}).status_code == 403
    assert ApprovalPolicy.objects.count() == 1


@pytest.mark.django_db
def test_policies_are_scoped_to_the_organization(tenant, other_tenant, system_admin):
    ours = policy(tenant, ["finance_manager"], name="Acme large")
    theirs = policy(other_tenant, ["org_admin"], name="Globex large")
    listing = admin_client(tenant.admin).get(POLICIES).content.decode()
    assert "Acme large" in listing and "Globex large" not in listing
    assert admin_client(tenant.admin).get(f"{POLICIES}{theirs.id}/change/").status_code == 302  # "does not exist"
    admin_client(tenant.admin).post(f"{POLICIES}{theirs.id}/delete/", {"post": "yes"})
    assert ApprovalPolicy.objects.filter(id=theirs.id).exists()

    everything = admin_client(system_admin).get(POLICIES).content.decode()
    assert "Acme large" in everything and "Globex large" in everything
    assert ours.id != theirs.id


@pytest.mark.django_db
def test_a_system_admin_picks_the_organization_and_its_departments_only(tenant, other_tenant, system_admin):
    client = admin_client(system_admin)
    assert 'name="organization"' in client.get(f"{POLICIES}add/").content.decode()

    crossed = client.post(
        f"{POLICIES}add/",
        new_policy_form(organization=tenant.organization.id, department=other_tenant.department.id),
    )
    assert crossed.status_code == 200 and "Department not found." in crossed.content.decode()
    assert not ApprovalPolicy.objects.exists()

    made = client.post(
        f"{POLICIES}add/", new_policy_form(organization=other_tenant.organization.id, min_amount="100.50")
    )
    assert made.status_code == 302
    created = ApprovalPolicy.objects.get()
    assert (created.organization, created.min_amount_minor) == (other_tenant.organization, 10_050)


def _act(client, action, approvals, **fields):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(a.id) for a in approvals], **fields}
    return client.post(REQUESTS, data, follow=True)


@pytest.mark.django_db(transaction=True)  # settlement takes the settlement lock outside any transaction
def test_requests_are_scoped_listed_with_the_spend_and_filtered_by_who_they_wait_for(
    tenant, other_tenant, system_admin
):
    policy(tenant, ["department_head", "finance_manager"])
    policy(other_tenant, ["finance_manager"])
    ours = waiting(tenant.employee, merchant="Acme Laptops")
    waiting(other_tenant.employee, "7777.00", merchant="Globex Rockets")
    DepartmentFactory(organization=other_tenant.organization, name="Rocketry")
    finance = admin_client(tenant.finance)

    listing = finance.get(REQUESTS).content.decode()
    assert "Acme Laptops" in listing and "$6,000" in listing and tenant.employee.email in listing
    assert "Step 1 of 2: department head" in listing
    assert "Globex" not in listing and "$7,777" not in listing and "Rocketry" not in listing
    assert finance.get(f"{REQUESTS}{ours.id}/change/").status_code == 200

    assert "Acme Laptops" in finance.get(REQUESTS, {"waiting_for": "department_head"}).content.decode()
    assert "Acme Laptops" not in finance.get(REQUESTS, {"waiting_for": "finance_manager"}).content.decode()
    assert "Acme Laptops" not in finance.get(REQUESTS, {"status__exact": "approved"}).content.decode()

    other = admin_client(other_tenant.finance)
    assert "Acme Laptops" not in other.get(REQUESTS).content.decode()
    assert other.get(f"{REQUESTS}{ours.id}/change/").status_code == 302  # "does not exist"

    everything = admin_client(system_admin).get(REQUESTS).content.decode()
    assert "Acme Laptops" in everything and "Globex Rockets" in everything
    assert '<option value="approve">' not in everything  # the platform's admins do not sign for a tenant
    assert admin_client(tenant.employee).get(REQUESTS).status_code == 302  # to the admin login


@pytest.mark.django_db(transaction=True)  # deciding takes the settlement lock outside any transaction
def test_approve_signs_the_step_waiting_for_the_user_and_reports_each_refusal(tenant):
    policy(tenant, ["finance_manager", "org_admin"])
    alices = waiting(tenant.employee, merchant="Dell")
    own = waiting(tenant.finance, "5500.00", merchant="Own Laptop", department_id=tenant.department.id)
    finance = admin_client(tenant.finance)
    assert '<option value="approve">' in finance.get(REQUESTS).content.decode()

    response = _act(finance, "approve", [alices, own])

    assert response.redirect_chain == [(REQUESTS, 302)]
    messages = messages_of(response)
    assert f"Dell $6,000 ({tenant.employee.email}): approved; it now waits for the org admin (step 2 of 2)." in messages
    assert f"Own Laptop $5,500 ({tenant.finance.email}): Nobody approves their own spend." in messages
    assert ApprovalRequest.objects.get(id=own.id).current_level == 0

    again = messages_of(_act(finance, "approve", [alices]))
    assert again == [f"Dell $6,000 ({tenant.employee.email}): You already signed an earlier step of this spend."]

    done = messages_of(_act(admin_client(tenant.admin), "approve", [alices]))
    assert done == [f"Dell $6,000 ({tenant.employee.email}): approved; the spend is posted."]
    assert refreshed(alices.transaction).status == Transaction.Status.POSTED
    page = finance.get(f"{REQUESTS}{alices.id}/change/").content.decode()
    assert tenant.finance.email in page and tenant.admin.email in page  # the signatures, read-only


@pytest.mark.django_db(transaction=True)  # deciding takes the settlement lock outside any transaction
def test_reject_asks_for_a_note_then_releases_the_hold(tenant):
    policy(tenant, ["finance_manager"])
    approval = waiting(tenant.employee, merchant="Dell")
    finance = admin_client(tenant.finance)

    form_page = _act(finance, "reject", [approval])
    assert form_page.status_code == 200 and 'name="note"' in form_page.content.decode()
    request_id = form_page.context["form"]["request_id"].value()
    unexplained = _act(finance, "reject", [approval], apply="yes", note="", request_id=request_id)
    assert unexplained.status_code == 200 and "This field is required." in unexplained.content.decode()
    assert ApprovalRequest.objects.get(id=approval.id).status == ApprovalRequest.Status.PENDING

    done = _act(finance, "reject", [approval], apply="yes", note="Use the framework deal", request_id=request_id)

    assert messages_of(done) == [
        f"Dell $6,000 ({tenant.employee.email}): rejected; its hold on the budget is released."
    ]
    spend = refreshed(approval.transaction)
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason.endswith(f"by {tenant.finance.email}: Use the framework deal")
    assert period_now(tenant.department).held_minor == 0

    late = messages_of(_act(admin_client(tenant.admin), "approve", [approval]))
    assert late == [
        f"Dell $6,000 ({tenant.employee.email}): This spend is no longer waiting for approval; it was rejected."
    ]


@pytest.mark.django_db(transaction=True)  # settlement takes the settlement lock outside any transaction
def test_budget_periods_in_the_back_office_show_what_is_held(tenant):
    policy(tenant, ["finance_manager"])
    waiting(tenant.employee)
    listing = admin_client(tenant.finance).get("/admin/budgets/budgetperiod/").content.decode()
    assert "Held for approval" in listing
    assert '<td class="field-held">$6,000</td>' in listing and '<td class="field-available">$44,000</td>' in listing


@pytest.mark.django_db
def test_adding_and_deleting_a_policy_in_the_back_office_is_audited_with_its_actor(tenant):
    admin = admin_client(tenant.admin)
    admin.post(f"{POLICIES}add/", new_policy_form())
    made = ApprovalPolicy.objects.get()
    admin.post(f"{POLICIES}{made.id}/delete/", {"post": "yes"})

    created, deleted = (
        AuditEvent.objects.get(action=action, target_id=str(made.id))
        for action in ("approval_policy.created", "approval_policy.deleted")
    )
    assert (created.actor, created.organization_id) == (tenant.admin, tenant.organization.id)
    assert created.after["levels"] == ["department_head", "finance_manager"]
    assert created.after["min_amount_minor"] == 500_000
    assert (deleted.actor, deleted.before["name"], deleted.after) == (tenant.admin, "Large spend", None)
