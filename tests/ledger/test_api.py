"""The ledger endpoints of api.md: entries and verification, for finance only."""

import pytest

from tests.spending.test_api import assert_error
from tests.spends import settle_all, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_entries_and_verify_are_for_finance(api, tenant, other_tenant):
    spend = spend_submit(tenant.employee, "10.00")
    settle_all(tenant.organization)
    entries_url = f"/api/v1/ledger/entries?transaction={spend.id}"
    for user in (tenant.finance, tenant.admin):
        entries = api(user).get(entries_url).json()["results"]
        assert sorted(e["amount"] for e in entries) == ["-10.00", "10.00"]
        assert api(user).get("/api/v1/ledger/verify").json()["ok"] is True
    assert_error(api(tenant.employee).get(entries_url), 403)
    assert_error(api(tenant.employee).get("/api/v1/ledger/verify"), 403)
    assert_error(api(other_tenant.finance).get(entries_url), 404)
    assert_error(api(tenant.finance).get("/api/v1/ledger/entries?transaction=nope"), 400)
