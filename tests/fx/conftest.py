"""Rates and ECB files for the FX tests."""

import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.fx import services as fx_services

# The ECB's daily file as it publishes it: padded cells, a trailing comma on every line.
ECB_DAILY = (
    b"Date, USD, JPY, BGN, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, ISK, NOK, TRY, AUD, BRL, CAD, CNY, HKD, IDR, "
    b"ILS, INR, KRW, MXN, MYR, NZD, PHP, SGD, THB, ZAR, \n"
    b"02 December 2026, 1.0500, 160.00, 1.9558, 25.100, 7.4600, 0.8400, 400.00, 4.3000, 4.9700, 11.500, "
    b"0.9400, 150.00, 11.700, 36.000, 1.6000, 6.3000, 1.4700, 7.6000, 8.2000, 17000.00, 3.9000, 89.000, "
    b"1500.00, 21.000, 4.7000, 1.8000, 60.000, 1.4000, 37.000, 19.000, \n"
)
# The history's layout: ISO dates, one row per business day, N/A where a currency was not quoted.
ECB_HISTORY = b"Date,USD,JPY,GBP,CYP,\n2026-12-02,1.0500,160.00,0.8400,N/A,\n2026-12-01,1.0400,N/A,0.8500,N/A,\n"


def today(organization) -> date:
    return timezone.localdate(timezone.now(), timezone=zoneinfo.ZoneInfo(organization.timezone))


def rate_set(tenant, currency: str, rate: str, *, days_ago: int = 0):
    return fx_services.fx_rate_set(
        actor=tenant.finance,
        organization=tenant.organization,
        currency=currency,
        rate_date=today(tenant.organization) - timedelta(days=days_ago),
        rate=Decimal(rate),
    )
