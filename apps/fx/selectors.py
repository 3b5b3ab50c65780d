"""Reading FX rates: the rate a spend is converted at, and the table as finance sees it."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet

from apps.tenancy.models import Organization
from ledgerx.errors import FxRateMissing
from ledgerx.money import MAX_MINOR, MoneyError, convert_minor, format_money

from .models import FxRate

# The rates a batch of spends read, by currency and day (None: there was none), so that each is read once.
RateMemo = dict[tuple[str, date], FxRate | None]


def fx_rate_for(*, organization: Organization, currency: str, day: date, rates: RateMemo | None = None) -> FxRate:
    """The rate of `currency` on `day`: that day's, or the latest within FX_RATE_MAX_AGE_DAYS before it
    (a weekend, a holiday); the newest entry of that day wins. None within that: FxRateMissing, never a guess.
    `rates`, when given, answers a currency and day read before, and keeps what this read."""
    if rates is not None and (currency, day) in rates:
        rate = rates[currency, day]
    else:
        oldest = day - timedelta(days=settings.FX_RATE_MAX_AGE_DAYS)
        rate = (
            FxRate.objects.of(organization)
            .filter(currency=currency, rate_date__lte=day, rate_date__gte=oldest)
            .order_by("-rate_date", "-id")
            .first()
        )
        if rates is not None:
            rates[currency, day] = rate
    if rate is None:
        raise FxRateMissing(
            f"No {currency} to {organization.currency} rate for {day.isoformat()} or the "
            f"{settings.FX_RATE_MAX_AGE_DAYS} days before it in {organization.name}'s FX rates: finance enters "
            "one or imports the ECB's file, then the spend can be sent again.",
            fields={"currency": [f"No {currency} rate for {day.isoformat()}."]},
        )
    return rate


def fx_rates(
    *, organization: Organization, currency: str | None = None, since: date | None = None, until: date | None = None
) -> QuerySet[FxRate]:
    """Every rate entered, corrections included, newest entry first."""
    rates = FxRate.objects.of(organization).select_related("entered_by")
    if currency:
        rates = rates.filter(currency=currency)
    if since:
        rates = rates.filter(rate_date__gte=since)
    if until:
        rates = rates.filter(rate_date__lte=until)
    return rates.order_by("-created_at", "-id")


def fx_currencies_priced(*, organization: Organization, day: date) -> list[str]:
    """The currencies a spend on `day` can be made in besides the base: those with a rate in force then."""
    oldest = day - timedelta(days=settings.FX_RATE_MAX_AGE_DAYS)
    return sorted(
        FxRate.objects.of(organization)
        .filter(rate_date__lte=day, rate_date__gte=oldest)
        .values_list("currency", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class Conversion:
    """A spend's amount in the organization's base currency, and the rate that made it (1 and no date
    when the spend is in the base currency)."""

    base_minor: int
    rate: Decimal
    rate_date: date | None


def spend_conversion(
    *, organization: Organization, currency: str, amount_minor: int, at: datetime, rates: RateMemo | None = None
) -> Conversion:
    """Convert a spend made at `at` (its day in the organization's timezone) into the base currency,
    rounded half-even once (ledgerx.money.convert_minor). Raises FxRateMissing or MoneyError. `rates`: a
    memo that the spends of one batch share (fx_rate_for)."""
    if currency == organization.currency:
        return Conversion(base_minor=amount_minor, rate=Decimal(1), rate_date=None)
    day = at.astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
    rate = fx_rate_for(organization=organization, currency=currency, day=day, rates=rates)
    base_minor = convert_minor(amount_minor, currency, rate.rate, organization.currency)
    if base_minor == 0:
        raise MoneyError(f"At {rate.rate} this is less than {format_money(1, organization.currency)}.")
    if base_minor > MAX_MINOR:
        raise MoneyError("Amount is too large.")
    return Conversion(base_minor=base_minor, rate=rate.rate, rate_date=rate.rate_date)
