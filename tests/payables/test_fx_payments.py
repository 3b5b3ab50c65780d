"""A bill in a currency other than the books': accrued at its base amount at approval, paid at the run's rate,
the difference booked to realised FX gain/loss so that accounts payable returns to zero; a return undoing it.

transaction=True: settlement and releases take the organization's lock outside any transaction.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.fx.services import fx_rate_set
from apps.ledger.chart import chart_ensure
from apps.ledger.models import Account, Entry, GLAccount
from apps.ledger.selectors import ledger_verify
from apps.payables import bills, payment_returns, payment_runs
from apps.payables.models import PaymentRun
from ledgerx.errors import FxRateMissing
from tests.payables.bills import invoice_file, local_today
from tests.payables.vendors import paying_account, run_released, vendor_paid_by
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def _balance(kind: str) -> int:
    return sum(Entry.objects.filter(account__kind=kind).values_list("amount_minor", flat=True))


def _euro_rate(tenant, rate: str) -> None:
    fx_rate_set(
        actor=tenant.finance,
        organization=tenant.organization,
        currency="EUR",
        rate_date=local_today(tenant.organization),
        rate=Decimal(rate),
    )


def test_a_euro_bill_paid_at_another_rate_books_the_difference_as_realised_fx_and_a_return_undoes_it(tenant):
    assert tenant.organization.currency == "USD"
    account = paying_account(tenant, "sepa")
    vendor = vendor_paid_by(tenant)
    chart_ensure(organization=tenant.organization)
    software, cloud = (GLAccount.objects.get(organization=tenant.organization, code=c) for c in ("6200", "6210"))
    _euro_rate(tenant, "1.10")
    today = local_today(tenant.organization)
    bill, _ = bills.bill_submit(
        user=tenant.finance,
        idempotency_key=f"bill-{uuid.uuid4()}",
        vendor_id=vendor.id,
        invoice_number="EU-1",
        amount="1000.00",
        currency="EUR",
        bill_date=today,
        due_date=today,
        department_id=None,
        description="",
        invoice=invoice_file(),
        lines=[bills.BillLineInput(software.id, "333.33"), bills.BillLineInput(cloud.id, "666.67")],
    )
    settle_all(tenant.organization)
    # Accrued at approval's rate, split over the lines in proportion, to the cent.
    assert _balance(Account.Kind.ACCOUNTS_PAYABLE) == -110_000
    expense = Entry.objects.filter(transaction=bill, account__kind=Account.Kind.EXPENSE).order_by("id")
    assert list(expense.values_list("gl_code", "amount_minor")) == [("6200", 36_666), ("6210", 73_334)]

    # The euro dearer when the run is released: it cost more; the payable is cleared at what it owed.
    _euro_rate(tenant, "1.12")
    run = run_released(tenant, account)
    assert (run.fx_rate, run.fx_rate_date) == (Decimal("1.12"), today)
    [line] = run.lines.all()
    assert (line.amount_minor, line.base_amount_minor, line.paid_base_amount_minor) == (100_000, 110_000, 112_000)
    assert _balance(Account.Kind.ACCOUNTS_PAYABLE) == 0
    assert _balance(Account.Kind.BANK) == -112_000
    fx = Entry.objects.get(account__kind=Account.Kind.FX_GAIN_LOSS)
    assert (fx.amount_minor, fx.gl_code) == (2_000, "7900")  # a loss, debited
    report = ledger_verify()
    assert report["ok"], report["problems"]

    payment_returns.payment_return(actor=tenant.finance, line_id=line.id, reason="AC04 Account closed")
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (-110_000, 0)
    assert _balance(Account.Kind.FX_GAIN_LOSS) == 0
    report = ledger_verify()
    assert report["ok"], report["problems"]

    # Paid again when the euro is cheaper: a gain, credited.
    _euro_rate(tenant, "1.08")
    run_released(tenant, account)
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (0, -108_000)
    assert _balance(Account.Kind.FX_GAIN_LOSS) == -2_000
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_a_run_in_a_foreign_currency_is_not_released_without_a_rate_and_pays_nothing(tenant, time_machine):
    account = paying_account(tenant, "sepa")
    vendor = vendor_paid_by(tenant)
    _euro_rate(tenant, "1.10")
    today = local_today(tenant.organization)
    bills.bill_submit(
        user=tenant.finance,
        idempotency_key="eu",
        vendor_id=vendor.id,
        invoice_number="EU-2",
        amount="50.00",
        currency="EUR",
        bill_date=today,
        due_date=today + timedelta(days=20),
        department_id=None,
        description="",
        invoice=invoice_file(),
    )
    settle_all(tenant.organization)
    run = payment_runs.payment_run_create(
        actor=tenant.finance,
        paying_account_id=account.id,
        due_until=today + timedelta(days=30),
        execution_date=today + timedelta(days=20),
    )
    time_machine.move_to(today + timedelta(days=15))  # past the rates' reach
    with pytest.raises(FxRateMissing):
        payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)
    run.refresh_from_db()
    assert run.status == PaymentRun.Status.DRAFT
    assert not Entry.objects.filter(account__kind=Account.Kind.BANK).exists()
