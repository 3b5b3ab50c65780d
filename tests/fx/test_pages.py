"""The pages with other currencies: the spend form offers the base currency first and those with a rate in
force, and the lists show the amount as spent beside the base amount."""

import pytest
from django.test import Client

from tests.factories import login_verified
from tests.fx.conftest import rate_set
from tests.fx.test_services import spend_in
from tests.spends import settle_all


def signed_in(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db
def test_the_spend_form_offers_the_base_currency_first_then_those_with_a_rate(tenant):
    rate_set(tenant, "GBP", "1.27")
    rate_set(tenant, "EUR", "1.08", days_ago=30)  # too old to convert at: not offered
    html = signed_in(tenant.employee).get("/").content.decode()
    assert '<option value="USD" selected>USD</option><option value="GBP">GBP</option></select>' in " ".join(
        html.split()
    ).replace("> <", "><")


@pytest.mark.django_db(transaction=True)
def test_the_lists_show_the_amount_as_spent_beside_the_base_amount(tenant):
    rate_set(tenant, "EUR", "1.0837")
    spend_in(tenant.employee, "123.45", "EUR")
    spend_in(tenant.employee, "50.00", "USD")
    settle_all(tenant.organization)
    mine = signed_in(tenant.employee).get("/panels/home").content.decode()
    assert "$133.78 (€123.45)" in mine and "$50</td>" in mine
    assert "$133.78 (€123.45)" in signed_in(tenant.finance).get("/finance/panels").content.decode()
