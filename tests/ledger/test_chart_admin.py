"""The chart of accounts in the back office: finance edits their own organization's GL accounts and rules
through chart_edits, refused beside the field at fault; every change is in the audit change log."""

import pytest

from apps.audit.models import AuditChange
from apps.ledger.chart import chart_ensure
from apps.ledger.chart_defaults import DEFAULT_GL_ACCOUNTS
from apps.ledger.models import ChartOfAccounts, GLAccount, GLMapping
from tests.factories import signed_in_client

ACCOUNTS = "/admin/ledger/glaccount/"
MAPPINGS = "/admin/ledger/glmapping/"
CHARTS = "/admin/ledger/chartofaccounts/"


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}


def code_of(tenant, code: str) -> GLAccount:
    return GLAccount.objects.of(tenant.organization).get(code=code)


@pytest.mark.django_db
@pytest.mark.parametrize("editor", ["admin", "finance"])
def test_finance_adds_an_account_to_their_chart_made_from_the_default_first(tenant, editor):
    client = signed_in_client(getattr(tenant, editor))
    assert 'name="organization"' not in client.get(f"{ACCOUNTS}add/").content.decode()
    response = client.post(f"{ACCOUNTS}add/", {"code": " 6120 ", "name": "Taxis", "type": "expense", "is_active": "on"})

    assert response.status_code == 302, form_errors(response)
    assert code_of(tenant, "6120").name == "Taxis"
    assert ChartOfAccounts.objects.of(tenant.organization).get().default_expense_account.code == "6000"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "problem"),
    [("61|20", "letters, digits"), ("6100", "already has an account 6100"), ("", "required")],
)
def test_a_bad_or_taken_code_is_refused_beside_it(tenant, code, problem):
    with_chart(tenant)
    response = signed_in_client(tenant.finance).post(f"{ACCOUNTS}add/", {"code": code, "name": "X", "type": "expense"})

    assert problem in form_errors(response)["code"]
    assert GLAccount.objects.of(tenant.organization).count() == len(DEFAULT_GL_ACCOUNTS)


@pytest.mark.django_db
def test_a_mapped_account_stays_active_and_an_unmapped_one_is_deactivated(tenant):
    with_chart(tenant)
    client = signed_in_client(tenant.finance)
    travel = code_of(tenant, "6100")
    refused = client.post(f"{ACCOUNTS}{travel.id}/change/", {"code": "6100", "name": "Travel", "type": "expense"})
    assert "stay active" in form_errors(refused)["is_active"]

    spare = GLAccount.objects.create(organization=tenant.organization, code="6990", name="Spare", type="expense")
    done = client.post(f"{ACCOUNTS}{spare.id}/change/", {"code": "6990", "name": "Spare", "type": "expense"})
    assert done.status_code == 302
    spare.refresh_from_db()
    assert not spare.is_active


@pytest.mark.django_db
def test_finance_maps_a_merchant_and_a_department_and_the_log_records_it(tenant):
    with_chart(tenant)
    client = signed_in_client(tenant.finance)
    merchant = client.post(
        f"{MAPPINGS}add/", {"kind": "merchant", "merchant": "Apple", "gl_account": code_of(tenant, "6300").id}
    )
    department = client.post(
        f"{MAPPINGS}add/",
        {
            "kind": "department",
            "department": tenant.department.id,
            "gl_account": code_of(tenant, "6000").id,
            "cost_centre": "ENG-100",
        },
    )

    assert merchant.status_code == department.status_code == 302
    rule = GLMapping.objects.of(tenant.organization).get(kind="department")
    assert (rule.department, rule.cost_centre) == (tenant.department, "ENG-100")
    change = AuditChange.objects.get(table_name="ledger_glmapping", row_id=str(rule.id), operation="INSERT")
    assert change.actor == f"user:{tenant.finance.email}"
    assert change.after["cost_centre"] == "ENG-100"
    assert change.organization_id == tenant.organization.id


@pytest.mark.django_db
def test_a_rule_must_point_at_an_active_account_of_its_kinds_type_in_its_own_chart(tenant, other_tenant):
    with_chart(tenant)
    with_chart(other_tenant)
    client = signed_in_client(tenant.finance)
    inactive = GLAccount.objects.create(
        organization=tenant.organization, code="6990", name="Old", type="expense", is_active=False
    )
    theirs = code_of(other_tenant, "6300")

    def refusal(**fields) -> dict:
        return form_errors(client.post(f"{MAPPINGS}add/", {"kind": "category", "category": "tools", **fields}))

    assert "gl_account" in refusal(gl_account=inactive.id)
    assert "gl_account" in refusal(gl_account=theirs.id)
    assert "expense" in refusal(gl_account=code_of(tenant, "2100").id)["gl_account"]
    assert "already has a rule" in refusal(category="Travel", gl_account=code_of(tenant, "6300").id)["category"]
    assert "cost centre" in refusal(gl_account=code_of(tenant, "6300").id, cost_centre="CC1")["cost_centre"]
    assert not GLMapping.objects.of(tenant.organization).filter(category="tools").exists()


@pytest.mark.django_db
def test_merchants_are_one_rule_in_any_letter_case(tenant):
    with_chart(tenant)
    client = signed_in_client(tenant.finance)
    equipment = code_of(tenant, "6300").id
    first = client.post(f"{MAPPINGS}add/", {"kind": "merchant", "merchant": "Dell", "gl_account": equipment})
    assert first.status_code == 302
    again = client.post(f"{MAPPINGS}add/", {"kind": "merchant", "merchant": "DELL ", "gl_account": equipment})
    assert "already has a rule" in form_errors(again)["merchant"]


@pytest.mark.django_db
def test_a_category_rule_is_deleted_but_a_ledger_account_kinds_is_not(tenant):
    with_chart(tenant)
    client = signed_in_client(tenant.finance)
    rules = GLMapping.objects.of(tenant.organization)
    gifts = rules.get(kind="category", category="gifts")
    card = rules.get(kind="ledger_account", ledger_account_kind="card_funding")

    assert client.post(f"{MAPPINGS}{gifts.id}/delete/", {"post": "yes"}).status_code == 302
    assert client.post(f"{MAPPINGS}{card.id}/delete/", {"post": "yes"}).status_code == 403
    assert not rules.filter(id=gifts.id).exists() and rules.filter(id=card.id).exists()


@pytest.mark.django_db
def test_the_default_expense_account_is_an_active_expense_account(tenant):
    with_chart(tenant)
    client = signed_in_client(tenant.finance)
    chart = ChartOfAccounts.objects.of(tenant.organization).get()
    refused = client.post(f"{CHARTS}{chart.id}/change/", {"default_expense_account": code_of(tenant, "2100").id})
    assert "expense account" in form_errors(refused)["default_expense_account"]

    done = client.post(f"{CHARTS}{chart.id}/change/", {"default_expense_account": code_of(tenant, "6400").id})
    assert done.status_code == 302
    chart.refresh_from_db()
    assert chart.default_expense_account.code == "6400"


@pytest.mark.django_db
def test_each_organization_sees_and_changes_only_its_own_chart(tenant, other_tenant):
    with_chart(tenant)
    with_chart(other_tenant)
    client = signed_in_client(tenant.finance)
    assert set(client.get(ACCOUNTS).context["cl"].queryset) == set(GLAccount.objects.of(tenant.organization))
    theirs = code_of(other_tenant, "6100")
    assert client.get(f"{ACCOUNTS}{theirs.id}/change/").status_code == 302  # not found: back to the list
    assert signed_in_client(tenant.employee).get(ACCOUNTS).status_code == 302  # not staff: sign in


def with_chart(tenant) -> None:
    chart_ensure(organization=tenant.organization)
