"""FX rates as finance sets them, the rate of a day, and spends in other currencies through the real
services: converted once at acceptance, posted and reversed in the base currency, replays keeping their rate."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError
from django.utils import timezone

from apps.fx import selectors as fx_selectors
from apps.fx import services as fx_services
from apps.fx.models import FxRate
from apps.ledger.models import Entry, Transaction
from apps.ledger.verification import ledger_verify
from apps.spending import services as spending_services
from ledgerx.errors import Forbidden, FxRateMissing, InvalidInput
from tests.fx.conftest import ECB_DAILY, rate_set, today
from tests.owner import owner_cursor
from tests.spends import period_now, refreshed, settle_all, spend_reverse


def spend_in(user, amount: str, currency: str, *, key: str | None = None) -> Transaction:
    spend, _ = spending_services.transaction_submit(
        user=user,
        idempotency_key=key or f"spend-{uuid.uuid4()}",
        amount=amount,
        currency=currency,
        merchant="Hotel Adlon",
        category="travel",
    )
    return spend


@pytest.mark.django_db
class TestRates:
    def test_a_correction_is_a_new_entry_and_the_newest_of_the_day_is_the_rate(self, tenant):
        first = rate_set(tenant, "EUR", "1.08")
        corrected = rate_set(tenant, "EUR", "1.0812")
        assert FxRate.objects.count() == 2 and corrected.id > first.id
        day = today(tenant.organization)
        found = fx_selectors.fx_rate_for(organization=tenant.organization, currency="EUR", day=day)
        assert (found.id, found.rate, found.entered_by) == (corrected.id, Decimal("1.0812"), tenant.finance)

    def test_a_day_without_a_rate_takes_the_latest_within_the_allowed_age_never_older(self, tenant, settings):
        settings.FX_RATE_MAX_AGE_DAYS = 3
        friday = rate_set(tenant, "EUR", "1.08", days_ago=5)
        day = today(tenant.organization)
        found = fx_selectors.fx_rate_for(organization=tenant.organization, currency="EUR", day=day - timedelta(2))
        assert found == friday
        with pytest.raises(FxRateMissing) as refusal:
            fx_selectors.fx_rate_for(organization=tenant.organization, currency="EUR", day=day - timedelta(1))
        assert refusal.value.message.startswith(f"No EUR to USD rate for {day - timedelta(1)} or the 3 days before")
        with pytest.raises(FxRateMissing):  # nor a rate of a later day
            fx_selectors.fx_rate_for(organization=tenant.organization, currency="EUR", day=day - timedelta(6))

    @pytest.mark.parametrize(
        ("currency", "rate", "field"),
        [
            ("XYZ", "1.1", "currency"),
            ("XAU", "1.1", "currency"),
            ("USD", "1.1", "currency"),  # the base currency
            ("EUR", "0", "rate"),
            ("EUR", "-1.1", "rate"),
            ("EUR", "0.0000000000001", "rate"),  # 13 places
            ("EUR", "1000000000000", "rate"),  # 13 digits before the point
        ],
    )
    def test_a_bad_rate_is_refused_and_adds_nothing(self, tenant, currency, rate, field):
        with pytest.raises(InvalidInput) as refusal:
            rate_set(tenant, currency, rate)
        assert list(refusal.value.fields) == [field]
        assert not FxRate.objects.exists()

    def test_a_rate_for_a_day_not_begun_is_refused(self, tenant):
        with pytest.raises(InvalidInput) as refusal:
            rate_set(tenant, "EUR", "1.08", days_ago=-1)
        assert list(refusal.value.fields) == ["date"]

    def test_only_finance_of_the_organization_sets_its_rates(self, tenant, other_tenant):
        for actor in (tenant.employee, other_tenant.finance):
            with pytest.raises(Forbidden):
                fx_services.fx_rate_set(
                    actor=actor,
                    organization=tenant.organization,
                    currency="EUR",
                    rate_date=today(tenant.organization),
                    rate=Decimal("1.08"),
                )
        assert not FxRate.objects.exists()

    def test_the_ecb_file_is_imported_once_then_adds_nothing(self, tenant):
        first = fx_services.fx_ecb_import(actor=tenant.finance, organization=tenant.organization, content=ECB_DAILY)
        assert (first.added, first.unchanged, len(first.currencies)) == (29, 0, 29)
        rate = FxRate.objects.get(currency="EUR")
        assert (rate.rate, rate.source, rate.source_checksum) == (Decimal("1.05"), FxRate.Source.ECB, first.checksum)
        again = fx_services.fx_ecb_import(actor=tenant.finance, organization=tenant.organization, content=ECB_DAILY)
        assert (again.added, again.unchanged) == (0, 29)
        assert FxRate.objects.count() == 29


@pytest.mark.django_db(transaction=True)
class TestSpendsAbroad:
    def test_a_spend_abroad_is_converted_once_posted_in_the_base_currency_and_reversed_exactly(self, tenant):
        rate_set(tenant, "EUR", "1.0837")
        spend = spend_in(tenant.employee, "123.45", "EUR")
        # 12345 cents x 1.0837 = 13378.2765 cents, rounded half-even once.
        assert (spend.amount_minor, spend.currency) == (13378, "USD")
        assert (spend.original_amount_minor, spend.original_currency) == (12345, "EUR")
        assert (spend.fx_rate, spend.fx_rate_date) == (Decimal("1.0837"), today(tenant.organization))
        settle_all(tenant.organization)
        assert refreshed(spend).status == Transaction.Status.POSTED
        assert sorted(Entry.objects.filter(transaction=spend).values_list("amount_minor", "currency")) == [
            (-13378, "USD"),
            (13378, "USD"),
        ]
        assert period_now(tenant.department).spent_minor == 13378

        rate_set(tenant, "EUR", "1.2")  # today's rate moves; the reversal keeps the original's
        reversal = spend_reverse(tenant.finance, refreshed(spend))
        assert (reversal.amount_minor, reversal.original_amount_minor, reversal.original_currency) == (
            13378,
            12345,
            "EUR",
        )
        assert (reversal.fx_rate, reversal.fx_rate_date) == (spend.fx_rate, spend.fx_rate_date)
        assert period_now(tenant.department).spent_minor == 0
        assert ledger_verify(organization=tenant.organization)["problems"] == []

    def test_currencies_with_other_minor_units_convert_to_the_base_minor_unit(self, tenant):
        rate_set(tenant, "JPY", "0.0066")
        rate_set(tenant, "KWD", "3.2561")
        yen = spend_in(tenant.employee, "1505", "JPY")  # 9.933 USD
        dinar = spend_in(tenant.employee, "10.125", "KWD")  # 32.9680125 USD
        assert (yen.original_amount_minor, yen.amount_minor) == (1505, 993)
        assert (dinar.original_amount_minor, dinar.amount_minor) == (10125, 3297)

    def test_a_spend_without_a_rate_or_worth_less_than_a_cent_is_refused_and_writes_nothing(self, tenant):
        with pytest.raises(FxRateMissing):
            spend_in(tenant.employee, "10.00", "GBP")
        rate_set(tenant, "JPY", "0.0045")
        with pytest.raises(InvalidInput) as refusal:
            spend_in(tenant.employee, "1", "JPY")  # 0.45 of a cent
        assert list(refusal.value.fields) == ["amount"]
        assert not Transaction.objects.exists()

    def test_a_replay_keeps_its_stored_rate_after_a_correction_and_once_no_rate_is_in_force(self, tenant, settings):
        rate_set(tenant, "EUR", "1.08")
        spend = spend_in(tenant.employee, "100.00", "EUR", key="abroad-1")
        rate_set(tenant, "EUR", "1.50")
        replayed = spend_in(tenant.employee, "100.00", "EUR", key="abroad-1")
        assert (replayed.id, replayed.amount_minor, replayed.fx_rate) == (spend.id, 10800, Decimal("1.08"))
        with time_machine.travel(timezone.now() + timedelta(days=settings.FX_RATE_MAX_AGE_DAYS + 2)):
            with pytest.raises(FxRateMissing):
                spend_in(tenant.employee, "100.00", "EUR", key="abroad-2")
            late = spend_in(tenant.employee, "100.00", "EUR", key="abroad-1")
        assert (late.id, late.amount_minor) == (spend.id, 10800)
        assert Transaction.objects.count() == 1

    def test_verify_ledger_names_a_stored_rate_its_base_amount_does_not_follow(self, tenant):
        rate_set(tenant, "EUR", "1.0837")
        spend = spend_in(tenant.employee, "123.45", "EUR")
        settle_all(tenant.organization)
        assert ledger_verify(organization=tenant.organization)["ok"]
        with owner_cursor() as cursor:
            cursor.execute("UPDATE ledger_transaction SET fx_rate = 1.09 WHERE id = %s", [spend.id])
        assert ledger_verify(organization=tenant.organization)["problems"] == [
            f"Spend {spend.id} of 12345 EUR at rate 1.09 ({spend.fx_rate_date}) is 13456 USD rounded half-even; "
            "it records 13378."
        ]

    def test_the_database_refuses_a_base_currency_spend_whose_original_differs(self, tenant):
        spend = spend_in(tenant.employee, "10.00", "USD")
        assert (spend.original_amount_minor, spend.fx_rate, spend.fx_rate_date) == (1000, 1, None)
        with pytest.raises(IntegrityError):
            Transaction.objects.filter(id=spend.id).update(original_amount_minor=999)
