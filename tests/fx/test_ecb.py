"""The ECB reference rates files read as rates against a base currency: both layouts, cross rates, and
every malformed file refused by line."""

from datetime import date
from decimal import Decimal

import pytest

from apps.fx.ecb import ecb_rates
from ledgerx.errors import InvalidInput
from tests.fx.conftest import ECB_DAILY, ECB_HISTORY


def _by_currency(rates) -> dict:
    return {(rate.currency, rate.rate_date): rate.rate for rate in rates}


def test_the_daily_file_against_the_euro_is_one_over_each_quote():
    rates = _by_currency(ecb_rates(ECB_DAILY, base_currency="EUR"))
    day = date(2026, 12, 2)
    # 30 quoted, less BGN: the lev left ISO 4217's list when Bulgaria took the euro.
    assert len(rates) == 29 and ("BGN", day) not in rates
    assert rates[("USD", day)] == Decimal("0.952380952381")  # 1 / 1.05, half-even at 12 places
    assert rates[("JPY", day)] == Decimal("0.006250000000")
    assert ("EUR", day) not in rates


def test_the_daily_file_against_another_base_is_a_cross_rate_and_quotes_the_euro():
    rates = _by_currency(ecb_rates(ECB_DAILY, base_currency="USD"))
    day = date(2026, 12, 2)
    assert rates[("EUR", day)] == Decimal("1.05")
    assert rates[("GBP", day)] == Decimal("1.250000000000")  # 1.05 / 0.84
    assert rates[("JPY", day)] == Decimal("0.006562500000")  # 1.05 / 160
    assert ("USD", day) not in rates


def test_the_history_layout_skips_what_was_not_quoted_and_what_iso_no_longer_lists():
    rates = _by_currency(ecb_rates(ECB_HISTORY, base_currency="GBP"))
    assert rates == {
        ("EUR", date(2026, 12, 2)): Decimal("0.84"),
        ("USD", date(2026, 12, 2)): Decimal("0.800000000000"),
        ("JPY", date(2026, 12, 2)): Decimal("0.005250000000"),
        ("EUR", date(2026, 12, 1)): Decimal("0.85"),
        ("USD", date(2026, 12, 1)): Decimal("0.817307692308"),
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "first line"),
        (b"Rate, USD\n", "first line"),
        (b"Date, USD\n", "no rates"),
        (b"Date, USD, USD\n2026-12-02, 1.0, 1.0\n", "each currency once"),
        (b"Date, usd\n2026-12-02, 1.0\n", "each currency once"),
        (b"Date, USD\n2026-12-02, 1.0, 2.0\n", "line 2 has 2 rates for 1 currencies"),
        (b"Date, USD\n2 Dec 2026, 1.0\n", "line 2: '2 Dec 2026' is not a date"),
        (b"Date, USD\n2026-12-02, -1.0\n", "line 2: '-1.0' is not a rate for USD"),
        (b"Date, USD\n2026-12-02, 0\n", "line 2: '0' is not a rate for USD"),
        (b"Date, USD\n2026-12-02, 1e3\n", "'1e3' is not a rate"),
        (b"Date, GBP\n2026-12-02, 0.84\n", "no rate for USD"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_malformed_file_is_refused_naming_what_is_wrong(content, message):
    with pytest.raises(InvalidInput) as refusal:
        ecb_rates(content, base_currency="USD")
    assert message in refusal.value.message
    assert list(refusal.value.fields) == ["file"]
