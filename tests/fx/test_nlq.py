"""Questions in plain language and the auditors' reports show a spend abroad with its amount as spent beside
the base amount."""

import pytest

from apps.reports.periods import period_parse
from apps.reports.reversals import reversals
from tests.fx.conftest import rate_set, today
from tests.fx.test_services import spend_in
from tests.spends import settle_all, spend_reverse


@pytest.mark.django_db(transaction=True)
def test_top_expenses_show_the_original_amount_where_it_differs(api, tenant):
    rate_set(tenant, "EUR", "1.0837")
    abroad = spend_in(tenant.employee, "123.45", "EUR")
    home = spend_in(tenant.employee, "50.00", "USD")
    settle_all(tenant.organization)
    answer = api(tenant.finance).post("/api/v1/query", {"q": "top expenses this month"}, format="json").json()
    columns = answer["columns"]
    rows = {row[0]: dict(zip(columns, row, strict=True)) for row in answer["rows"]}
    assert (rows[str(abroad.id)]["amount"], rows[str(abroad.id)]["original_amount"]) == ("133.78", "123.45 EUR")
    assert (rows[str(home.id)]["amount"], rows[str(home.id)]["original_amount"]) == ("50.00", None)


@pytest.mark.django_db(transaction=True)
def test_the_auditors_reversals_report_shows_the_amount_as_spent_where_it_differs(tenant):
    rate_set(tenant, "EUR", "1.0837")
    abroad = spend_in(tenant.employee, "123.45", "EUR")
    home = spend_in(tenant.employee, "50.00", "USD")
    settle_all(tenant.organization)
    spend_reverse(tenant.finance, abroad)
    spend_reverse(tenant.finance, home)
    month = today(tenant.organization).strftime("%Y-%m")
    report = reversals(
        organization=tenant.organization, period=period_parse(organization=tenant.organization, month=month)
    )
    rows = {row[2]: dict(zip(report.columns, row, strict=True)) for row in report.rows}
    assert (rows[str(abroad.id)]["amount"], rows[str(abroad.id)]["as spent"]) == ("133.78", "123.45 EUR")
    assert (rows[str(home.id)]["amount"], rows[str(home.id)]["as spent"]) == ("50.00", "")
