"""A bill's GL lines: entered with it, summing to its amount exactly (one on the vendor's default GL account
when none are given), booked one expense line each on approval against one accounts payable credit, undone
line by line by a reversal; verify_ledger agreeing, and naming a line that does not.

transaction=True: settlement takes the organization's lock outside any transaction, as workers do.
"""

import uuid

import pytest

from apps.ledger.chart import chart_ensure
from apps.ledger.models import Account, Entry, GLAccount, Transaction
from apps.ledger.selectors import ledger_verify
from apps.payables import bills, vendors
from apps.payables.models import Bill, BillLine
from ledgerx.errors import InvalidInput, NotFound
from tests.payables.bills import invoice_file, local_today
from tests.payables.vendors import vendor_paid_by
from tests.spends import refreshed, settle_all, spend_reverse

pytestmark = pytest.mark.django_db(transaction=True)


def _gl(tenant, code: str) -> GLAccount:
    chart_ensure(organization=tenant.organization)
    return GLAccount.objects.get(organization=tenant.organization, code=code)


def _submit(tenant, vendor, amount: str, lines, currency: str | None = None) -> Transaction:
    today = local_today(tenant.organization)
    transaction, _ = bills.bill_submit(
        user=tenant.finance,
        idempotency_key=f"bill-{uuid.uuid4()}",
        vendor_id=vendor.id,
        invoice_number=f"INV-{uuid.uuid4().hex[:8]}",
        amount=amount,
        currency=currency or tenant.organization.currency,
        bill_date=today,
        due_date=today,
        department_id=None,
        description="",
        invoice=invoice_file(),
        lines=lines,
    )
    return transaction


def _expense_legs(transaction) -> list[tuple[str, int]]:
    return list(
        Entry.objects.filter(transaction=transaction, account__kind=Account.Kind.EXPENSE)
        .order_by("id")
        .values_list("gl_code", "amount_minor")
    )


def test_a_bill_split_over_gl_lines_is_accrued_one_expense_line_each_and_reversed_line_by_line(tenant):
    vendor = vendor_paid_by(tenant)
    software, cloud = _gl(tenant, "6200"), _gl(tenant, "6210")
    bill = _submit(
        tenant,
        vendor,
        "1000.00",
        [
            bills.BillLineInput(software.id, "600.00", "Licences"),
            bills.BillLineInput(cloud.id, "400.00", "Hosting"),
        ],
    )
    lines = list(
        Bill.objects.get(transaction=bill).lines.values_list("gl_account__code", "amount_minor", "description")
    )
    assert lines == [("6200", 60_000, "Licences"), ("6210", 40_000, "Hosting")]

    settle_all(tenant.organization)
    assert refreshed(bill).status == Transaction.Status.POSTED
    assert _expense_legs(bill) == [("6200", 60_000), ("6210", 40_000)]
    [payable] = Entry.objects.filter(transaction=bill, account__kind=Account.Kind.ACCOUNTS_PAYABLE)
    assert (payable.gl_code, payable.amount_minor) == ("2000", -100_000)
    report = ledger_verify()
    assert report["ok"], report["problems"]
    # A line that no longer says what was booked is named.
    BillLine.objects.filter(bill__transaction=bill, position=2).update(gl_account=software)
    assert ledger_verify()["problems"] == [
        f"Bill {bill.id} of 100000: its GL lines say 60000 on 6200, 40000 on 6200; its expense entries are "
        "60000 on 6200, 40000 on 6210."
    ]
    BillLine.objects.filter(bill__transaction=bill, position=2).update(gl_account=cloud)

    reversal = spend_reverse(tenant.finance, refreshed(bill))
    assert _expense_legs(reversal) == [("6200", -60_000), ("6210", -40_000)]

    # No lines given: one, on the vendor's default GL account.
    vendors.vendor_update(actor=tenant.finance, vendor_id=vendor.id, default_gl_account_id=_gl(tenant, "6300").id)
    plain = _submit(tenant, vendor, "75.50", None)
    assert list(Bill.objects.get(transaction=plain).lines.values_list("gl_account__code", "amount_minor")) == [
        ("6300", 7_550)
    ]
    settle_all(tenant.organization)
    assert _expense_legs(plain) == [("6300", 7_550)]
    report = ledger_verify()
    assert report["ok"], report["problems"]


@pytest.mark.django_db  # refused before anything settles: no transaction of its own needed
def test_lines_that_do_not_sum_to_the_amount_or_name_no_expense_account_are_refused_writing_nothing(
    tenant, other_tenant
):
    vendor = vendor_paid_by(tenant)
    software, payable = _gl(tenant, "6200"), _gl(tenant, "2000")
    with pytest.raises(InvalidInput) as short:
        _submit(tenant, vendor, "100.00", [bills.BillLineInput(software.id, "99.99")])
    assert short.value.fields["lines"] == ["The lines sum to 99.99, not the bill's 100.00."]
    with pytest.raises(InvalidInput) as liability:
        _submit(tenant, vendor, "100.00", [bills.BillLineInput(payable.id, "100.00")])
    assert "not an active expense account" in liability.value.fields["lines"][0]
    with pytest.raises(InvalidInput):
        _submit(tenant, vendor, "100.00", [bills.BillLineInput(software.id, "100.001")])
    with pytest.raises(NotFound):
        _submit(tenant, vendor, "100.00", [bills.BillLineInput(_gl(other_tenant, "6200").id, "100.00")])
    assert not Bill.objects.exists() and not Transaction.objects.exists()
