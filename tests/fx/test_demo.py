"""The demo gives TechCorp today's EUR and GBP rates, so a spend abroad converts at once; seeding again adds none."""

from decimal import Decimal

import pytest

from apps.fx.models import FxRate
from apps.system.demo import seed_demo
from apps.tenancy.models import Organization, User
from tests.fx.conftest import today
from tests.fx.test_services import spend_in


@pytest.mark.django_db(transaction=True)
def test_techcorp_has_todays_rates_and_carol_spends_in_euros():
    seed_demo(history=False)
    seed_demo(history=False)
    techcorp = Organization.objects.get(slug="techcorp")
    rates = FxRate.objects.of(techcorp).values_list("currency", "rate_date", "rate")
    assert sorted(rates) == [
        ("EUR", today(techcorp), Decimal("1.0837")),
        ("GBP", today(techcorp), Decimal("1.2712")),
    ]
    spend = spend_in(User.objects.get(email="carol@techcorp.com"), "123.45", "EUR")
    assert (spend.amount_minor, spend.currency, spend.original_currency) == (13378, "USD", "EUR")
