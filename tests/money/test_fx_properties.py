"""Conversion into the base currency, for any amount, rate and pair of minor units.

The arithmetic alone: the base amount is within half a base minor unit of the exact product, and on
an exact half it is the even neighbour (half-even, once). Then through the real services against
PostgreSQL: a random mix of spends in currencies with 0, 2 and 3 decimals, settled, some reversed;
each reversal returns exactly what its spend posted, budgets agree with the ledger, and verify_ledger
(which redoes every conversion at its stored rate) finds nothing.
"""

import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.budgets.models import BudgetPeriod
from apps.fx import services as fx_services
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import services as spending_services
from apps.tenancy.models import Role
from ledgerx.errors import InvalidInput
from ledgerx.money import RATE_DECIMAL_PLACES, convert_minor, currency_exponent, to_decimal_string
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from tests.spends import settle_all, spend_reverse

CURRENCIES = ("JPY", "USD", "KWD")  # 0, 2 and 3 decimals
rates = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("100000"), places=RATE_DECIMAL_PLACES, allow_nan=False
)


@settings(max_examples=2000, deadline=None)
@given(
    original=st.integers(1, 10**15),
    rate=rates,
    original_currency=st.sampled_from(CURRENCIES),
    base_currency=st.sampled_from(CURRENCIES),
)
def test_the_base_amount_is_within_half_a_minor_unit_of_exact_and_even_on_a_half(
    original, rate, original_currency, base_currency
):
    base = convert_minor(original, original_currency, rate, base_currency)
    shift = currency_exponent(base_currency) - currency_exponent(original_currency)
    exact = Fraction(original) * Fraction(rate) * Fraction(10) ** shift
    assert abs(base - exact) <= Fraction(1, 2)
    if abs(base - exact) == Fraction(1, 2):
        assert base % 2 == 0


# A spend: its currency and amount in that currency's minor units (small enough that budgets hold them all).
spends = st.lists(st.tuples(st.sampled_from((*CURRENCIES, "EUR")), st.integers(1, 50_000)), min_size=1, max_size=8)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    base_currency=st.sampled_from(CURRENCIES),
    rate_of=st.fixed_dictionaries(dict.fromkeys((*CURRENCIES, "EUR"), rates)),
    made=spends,
    reversed_mask=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_budgets_and_the_ledger_agree_after_any_mix_of_currencies_and_reversals(
    base_currency, rate_of, made, reversed_mask
):
    organization = OrganizationFactory(name="FX Property Corp", currency=base_currency)
    department = DepartmentFactory(organization=organization, name="Travel", monthly_limit_minor=10**15)
    employee = UserFactory(role=Role.EMPLOYEE, department=department)
    finance = UserFactory(role=Role.FINANCE_MANAGER, organization=organization)
    for code, rate in rate_of.items():
        if code != base_currency:
            fx_services.fx_rate_set(
                actor=finance, organization=organization, currency=code, rate_date=timezone.now().date(), rate=rate
            )
    accepted = []
    for currency, amount in made:
        try:
            spend, _ = spending_services.transaction_submit(
                user=employee,
                idempotency_key=str(uuid.uuid4()),
                amount=to_decimal_string(amount, currency),
                currency=currency,
                merchant="Abroad",
                category="travel",
            )
        except InvalidInput as refusal:  # only a conversion under one base minor unit may be refused
            assert "less than" in refusal.message
            continue
        expected = convert_minor(
            amount, currency, Decimal(1) if currency == base_currency else rate_of[currency], base_currency
        )
        assert (spend.amount_minor, spend.original_amount_minor, spend.original_currency) == (
            expected,
            amount,
            currency,
        )
        accepted.append(spend)
    settle_all(organization)
    for spend, reverse in zip(accepted, reversed_mask, strict=False):
        if reverse:
            reversal = spend_reverse(finance, Transaction.objects.get(id=spend.id))
            assert (
                reversal.amount_minor,
                reversal.currency,
                reversal.original_amount_minor,
                reversal.original_currency,
                reversal.fx_rate,
                reversal.fx_rate_date,
            ) == (
                spend.amount_minor,
                spend.currency,
                spend.original_amount_minor,
                spend.original_currency,
                spend.fx_rate,
                spend.fx_rate_date,
            )
    posted = Transaction.objects.of(organization).filter(kind="spend", status="posted")
    expenses = Entry.objects.of(organization).filter(account__kind="expense")
    spent = sum(
        BudgetPeriod.objects.of(organization).filter(department=department).values_list("spent_minor", flat=True)
    )
    assert (
        spent
        == sum(posted.values_list("amount_minor", flat=True))
        == sum(expenses.values_list("amount_minor", flat=True))
    )
    report = ledger_verify(organization=organization)
    assert report["ok"], report["problems"]
