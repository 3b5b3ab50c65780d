"""The accounts, balance and trial balance endpoints of api.md: finance only, tenant-scoped, strict input."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.ledger.balance_checkpoints import balance_checkpoints_write
from apps.ledger.models import Account
from tests.ledger.balance_rows import journal_insert
from tests.spending.test_api import assert_error

pytestmark = pytest.mark.django_db


def _card(tenant) -> Account:
    return Account.objects.get(organization=tenant.organization, kind=Account.Kind.CARD_FUNDING)


def _url(account, as_of: datetime | None = None) -> str:
    url = f"/api/v1/ledger/accounts/{account.id}/balance"
    return url if as_of is None else f"{url}?as_of={quote(as_of.isoformat())}"


def test_finance_lists_the_accounts_with_their_balances(api, tenant):
    expense = tenant.department.expense_account
    journal_insert(tenant, [(expense, 1250), (_card(tenant), -1250)], timezone.now() - timedelta(days=1))
    balance_checkpoints_write()
    journal_insert(tenant, [(expense, 100), (_card(tenant), -100)], timezone.now() - timedelta(minutes=5))
    for user in (tenant.finance, tenant.admin):
        body = api(user).get("/api/v1/ledger/accounts").json()
        accounts = {account["name"]: account for account in body["results"]}
        assert accounts["Engineering expenses"]["balance"] == "13.50"
        assert accounts["Engineering expenses"]["department"] == {
            "id": str(tenant.department.id),
            "name": "Engineering",
        }
        card = accounts["Acme card funding"]
        assert (card["kind"], card["balance"], card["currency"], card["department"]) == (
            "card_funding",
            "-13.50",
            "USD",
            None,
        )
    first = api(tenant.finance).get("/api/v1/ledger/accounts?limit=1").json()
    assert len(first["results"]) == 1 and first["next"]
    second = api(tenant.finance).get(first["next"]).json()
    assert second["results"][0]["name"] != first["results"][0]["name"]


def test_accounts_are_for_finance_and_refuse_unknown_parameters(api, tenant):
    assert_error(api(tenant.employee).get("/api/v1/ledger/accounts"), 403)
    assert_error(api(tenant.finance).get("/api/v1/ledger/accounts?kind=expense"), 400)
    assert_error(api(tenant.finance).get("/api/v1/ledger/accounts?limit=0"), 400)


def test_a_payable_names_its_employee(api, tenant):
    payable = Account.objects.create(
        organization=tenant.organization,
        kind=Account.Kind.EMPLOYEE_PAYABLE,
        employee=tenant.employee,
        name=f"Owed to {tenant.employee.email}",
        currency="USD",
    )
    accounts = api(tenant.finance).get("/api/v1/ledger/accounts").json()["results"]
    listed = next(account for account in accounts if account["id"] == str(payable.id))
    assert listed["employee"] == {"id": str(tenant.employee.id), "email": tenant.employee.email}


def test_a_balance_at_an_instant(api, tenant):
    expense = tenant.department.expense_account
    paid_at = timezone.now() - timedelta(hours=2)
    journal_insert(tenant, [(expense, 500), (_card(tenant), -500)], paid_at)
    journal_insert(tenant, [(expense, -200), (_card(tenant), 200)], paid_at + timedelta(hours=1))
    for user in (tenant.finance, tenant.admin):
        body = api(user).get(_url(expense, paid_at)).json()
        assert body["account"]["id"] == str(expense.id)
        assert (body["debits"], body["credits"], body["balance"]) == ("5.00", "0.00", "5.00")
        assert datetime.fromisoformat(body["as_of"]) == paid_at
    assert api(tenant.finance).get(_url(expense, paid_at - timedelta(microseconds=1))).json()["balance"] == "0.00"
    now = api(tenant.finance).get(_url(expense)).json()
    assert (now["debits"], now["credits"], now["balance"]) == ("5.00", "2.00", "3.00")
    in_paris = paid_at.astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"
    assert api(tenant.finance).get(f"{_url(expense)}?as_of={quote(in_paris)}").json()["balance"] == "5.00"


def test_a_balance_is_for_finance_of_the_same_organization(api, tenant, other_tenant):
    expense = tenant.department.expense_account
    assert_error(api(tenant.employee).get(_url(expense)), 403)
    assert_error(api(other_tenant.finance).get(_url(expense)), 404)
    assert_error(api(tenant.finance).get("/api/v1/ledger/accounts/not-an-id/balance"), 404)


@pytest.mark.parametrize(
    "as_of",
    [
        "2026-11-30T18:00:00",  # naive: which instant it means would be a guess
        "2026-11-30",
        "yesterday",
        "2026-11-30T18:00:00 01:00",  # a '+' not sent as %2B
        "",
    ],
)
def test_a_balance_refuses_an_instant_it_cannot_place(api, tenant, as_of):
    response = api(tenant.finance).get(f"{_url(tenant.department.expense_account)}?as_of={quote(as_of)}")
    assert_error(response, 400)
    assert "as_of" in response.json()["error"]["fields"]


def test_a_balance_refuses_the_future_and_unknown_parameters(api, tenant):
    expense = tenant.department.expense_account
    assert_error(api(tenant.finance).get(_url(expense, timezone.now() + timedelta(minutes=5))), 400)
    assert_error(api(tenant.finance).get(f"{_url(expense)}?at=2026-11-30T18:00:00Z"), 400)


def test_the_trial_balance_of_a_month_in_the_organizations_timezone(api, tenant):
    tenant.organization.timezone = "Pacific/Auckland"
    tenant.organization.save(update_fields=["timezone"])
    expense, card = tenant.department.expense_account, _card(tenant)
    this_month = (
        timezone.localtime(timezone.now(), timezone=ZoneInfo(tenant.organization.timezone)).date().replace(day=1)
    )
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    start = timezone.make_aware(datetime(this_month.year, this_month.month, 1), ZoneInfo(tenant.organization.timezone))
    journal_insert(tenant, [(expense, 1000), (card, -1000)], start - timedelta(microseconds=1))
    # Half an hour into the month in Auckland: still last month in UTC.
    journal_insert(tenant, [(expense, 300), (card, -300)], start + timedelta(minutes=30), gl_code="6100")
    journal_insert(tenant, [(expense, -100), (card, 100)], start + timedelta(minutes=31), gl_code="6100")
    balance_checkpoints_write(cut_at=start + timedelta(minutes=30, microseconds=1))

    body = api(tenant.finance).get(f"/api/v1/ledger/trial-balance?month={this_month:%Y-%m}").json()
    lines = {line["account"]["name"]: line for line in body["accounts"]}
    assert set(lines) == {"Engineering expenses", "Acme card funding"}
    assert {key: lines["Engineering expenses"][key] for key in ("opening", "debits", "credits", "closing")} == {
        "opening": "10.00",
        "debits": "3.00",
        "credits": "1.00",
        "closing": "12.00",
    }
    assert lines["Engineering expenses"]["gl_codes"] == ["6100"]
    assert lines["Acme card funding"]["gl_codes"] == ["6100"]
    assert body["totals"] == {"debits": "4.00", "credits": "4.00", "balanced": True}
    assert datetime.fromisoformat(body["starts_at"]) == start

    before = api(tenant.admin).get(f"/api/v1/ledger/trial-balance?month={last_month:%Y-%m}").json()
    assert {line["account"]["name"]: line["closing"] for line in before["accounts"]} == {
        "Engineering expenses": "10.00",
        "Acme card funding": "-10.00",
    }
    assert [line["gl_codes"] for line in before["accounts"]] == [[], []]  # those entries carry none


@pytest.mark.parametrize(
    "query",
    ["", "?month=2026-13", "?month=2026-1", "?month=", "?month=2026-11&x=1", "?month=0000-01", "?month=1899-12"],
)
def test_the_trial_balance_refuses_bad_input(api, tenant, query):
    assert_error(api(tenant.finance).get(f"/api/v1/ledger/trial-balance{query}"), 400)


def test_the_trial_balance_is_for_finance_and_not_of_a_month_to_come(api, tenant, other_tenant):
    assert_error(api(tenant.employee).get("/api/v1/ledger/trial-balance?month=2026-11"), 403)
    next_year = timezone.now().year + 1
    assert_error(api(tenant.finance).get(f"/api/v1/ledger/trial-balance?month={next_year}-01"), 400)
    journal_insert(tenant, [(tenant.department.expense_account, 5), (_card(tenant), -5)], timezone.now())
    assert (
        api(other_tenant.finance).get(f"/api/v1/ledger/trial-balance?month={timezone.now():%Y-%m}").json()["accounts"]
        == []
    )
