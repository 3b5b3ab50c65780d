"""Writing FX rates: one by hand, or every rate of an ECB reference rates file. Rates are only added
(apps/fx/models.py): the table is its own record of who set which rate, when and from what."""

import hashlib
import zoneinfo
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.tenancy.models import Organization, User
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES
from ledgerx.errors import Forbidden, InvalidInput
from ledgerx.money import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS, MoneyError, currency_exponent

from .ecb import ecb_rates
from .models import FxRate


def _check_actor(actor: User | None, organization: Organization) -> None:
    """Finance managers and org admins set their organization's rates; system admins and the platform any."""
    if actor is None or actor.role in PLATFORM_ROLES:
        return
    if actor.role not in FINANCE_ROLES or actor.organization_id != organization.id:
        raise Forbidden("Only finance managers and org admins set FX rates.")


def _organization_today(organization: Organization) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()


def _check_day(organization: Organization, day: date, field: str) -> None:
    if day > _organization_today(organization):
        raise InvalidInput(
            f"{day.isoformat()} has not begun in {organization.timezone}: a rate is set for a day that has.",
            fields={field: ["A day in the future."]},
        )


def fx_rate_check(*, organization: Organization, currency: str, rate: Decimal) -> None:
    """A rate finance may enter: for a known currency other than the base, positive, and held exactly."""
    try:
        currency_exponent(currency)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"currency": [str(error)]}) from None
    if currency == organization.currency:
        raise InvalidInput(
            f"{currency} is {organization.name}'s base currency: its rate is 1.",
            fields={"currency": ["The base currency has no rate."]},
        )
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput("A rate is a positive decimal.", fields={"rate": ["Must be greater than zero."]})
    _, digits, exponent = rate.normalize().as_tuple()
    if -exponent > RATE_DECIMAL_PLACES or len(digits) + exponent > RATE_MAX_DIGITS - RATE_DECIMAL_PLACES:
        message = (
            f"A rate has at most {RATE_MAX_DIGITS - RATE_DECIMAL_PLACES} digits before the point and "
            f"{RATE_DECIMAL_PLACES} after it."
        )
        raise InvalidInput(message, fields={"rate": [message]})


def fx_rate_set(
    *, actor: User | None, organization: Organization, currency: str, rate_date: date, rate: Decimal
) -> FxRate:
    """Set the rate of `currency` on `rate_date`: one unit of it is `rate` units of the base currency. A
    rate already set that day stays in the history; this newer one is the day's rate from now on."""
    _check_actor(actor, organization)
    fx_rate_check(organization=organization, currency=currency, rate=rate)
    _check_day(organization, rate_date, "date")
    return FxRate.objects.create(
        organization=organization,
        currency=currency,
        rate_date=rate_date,
        rate=rate,
        source=FxRate.Source.MANUAL,
        entered_by=actor,
    )


@dataclass(frozen=True)
class EcbImport:
    checksum: str
    added: int
    unchanged: int
    currencies: list[str]
    first_date: date
    last_date: date


def fx_ecb_import(*, actor: User | None, organization: Organization, content: bytes) -> EcbImport:
    """Add every rate of an ECB reference rates file (apps/fx/ecb.py) against the organization's base
    currency. A rate equal to the one already in force for its day is not added again, so a file
    uploaded twice adds nothing the second time. All or nothing: a malformed file adds no rate."""
    _check_actor(actor, organization)
    rates = ecb_rates(content, base_currency=organization.currency)
    if not rates:
        raise InvalidInput(
            f"The file has no day with a rate for {organization.currency}.", fields={"file": ["No usable rates."]}
        )
    first_date = min(rate.rate_date for rate in rates)
    last_date = max(rate.rate_date for rate in rates)
    _check_day(organization, last_date, "file")
    checksum = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        in_force: dict[tuple[str, date], Decimal] = {}
        # Oldest entry first, so the newest of each day is what stays in the dictionary.
        for currency, day, rate in (
            FxRate.objects.of(organization)
            .filter(rate_date__gte=first_date, rate_date__lte=last_date)
            .order_by("id")
            .values_list("currency", "rate_date", "rate")
        ):
            in_force[(currency, day)] = rate
        new = [rate for rate in rates if in_force.get((rate.currency, rate.rate_date)) != rate.rate]
        FxRate.objects.bulk_create(
            [
                FxRate(
                    organization=organization,
                    currency=rate.currency,
                    rate_date=rate.rate_date,
                    rate=rate.rate,
                    source=FxRate.Source.ECB,
                    source_checksum=checksum,
                    entered_by=actor,
                )
                for rate in new
            ],
            batch_size=2000,
        )
    return EcbImport(
        checksum=checksum,
        added=len(new),
        unchanged=len(rates) - len(new),
        currencies=sorted({rate.currency for rate in rates}),
        first_date=first_date,
        last_date=last_date,
    )
