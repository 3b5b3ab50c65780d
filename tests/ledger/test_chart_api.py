"""GET /api/v1/ledger/gl-accounts: the chart of accounts, each GL account with its rules, for finance only."""

import pytest

from apps.ledger.chart import chart_ensure
from apps.ledger.chart_edits import MappingFields, gl_mapping_save
from apps.ledger.models import GLAccount
from tests.spending.test_api import assert_error

URL = "/api/v1/ledger/gl-accounts"


@pytest.fixture
def charted(tenant, other_tenant):
    for each in (tenant, other_tenant):
        chart_ensure(organization=each.organization)
    gl_mapping_save(
        organization=tenant.organization,
        fields=MappingFields(
            kind="department",
            gl_account_id=GLAccount.objects.of(tenant.organization).get(code="6000").id,
            department_id=tenant.department.id,
            cost_centre="ENG-100",
        ),
        mapping=None,
    )
    return tenant


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_reads_the_chart_with_its_rules(api, charted, role):
    body = api(getattr(charted, role)).get(URL).json()

    assert body["default_expense_account"] == "6000"
    accounts = {account["code"]: account for account in body["results"]}
    assert list(accounts) == sorted(accounts)
    assert accounts["2100"]["type"] == "liability" and accounts["2100"]["is_active"] is True
    assert accounts["2100"]["mappings"][0]["ledger_account_kind"] == "card_funding"
    assert {m["category"] for m in accounts["6100"]["mappings"]} == {"travel"}
    (department_rule,) = accounts["6000"]["mappings"]
    assert department_rule["department"] == {"id": str(charted.department.id), "name": "Engineering"}
    assert (department_rule["kind"], department_rule["cost_centre"], department_rule["merchant"]) == (
        "department",
        "ENG-100",
        None,
    )


@pytest.mark.django_db
def test_the_list_filters_by_type_and_activity(api, charted):
    GLAccount.objects.of(charted.organization).filter(code="6800").update(is_active=False)
    client = api(charted.finance)

    liabilities = client.get(URL, {"type": "liability"}).json()["results"]
    assert [account["code"] for account in liabilities] == ["2000", "2100", "2200"]
    assert [account["code"] for account in client.get(URL, {"active": "false"}).json()["results"]] == ["6800"]


@pytest.mark.django_db
def test_employees_may_not_and_each_organization_sees_its_own(api, charted, other_tenant):
    assert_error(api(charted.employee).get(URL), 403)
    assert_error(api(None).get(URL), 401)
    theirs = {account["id"] for account in api(other_tenant.finance).get(URL).json()["results"]}
    assert theirs == {str(i) for i in GLAccount.objects.of(other_tenant.organization).values_list("id", flat=True)}
    assert theirs.isdisjoint(str(i) for i in GLAccount.objects.of(charted.organization).values_list("id", flat=True))


@pytest.mark.django_db
def test_before_its_first_posting_an_organization_has_no_chart(api, tenant):
    assert api(tenant.finance).get(URL).json() == {"default_expense_account": None, "results": []}


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"type": "income"}, {"active": "maybe"}, {"active": ""}, {"code": "6100"}])
def test_bad_input_is_a_400_naming_the_parameter(api, charted, query):
    response = api(charted.finance).get(URL, query)
    assert_error(response, 400, "invalid")
    assert set(response.json()["error"]["fields"]) == set(query)
