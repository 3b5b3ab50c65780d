"""A bill's life up to what is owed: the spend intake, the budget of its month, approval with a hold, the
accrual on accounts payable, duplicates caught, verify_ledger agreeing.

transaction=True: settlement takes the organization's lock outside any transaction, as workers do.
"""

from datetime import timedelta

import pytest

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalRequest
from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Account, Entry, GLAccount, Transaction
from apps.ledger.selectors import ledger_verify
from apps.payables import vendors
from apps.payables.models import Bill
from apps.receipts.models import Receipt
from apps.spending import services as spending_services
from apps.webhooks.models import OutboxEvent
from ledgerx.errors import Conflict, InvalidInput
from tests.payables.bills import bill_submit, local_today
from tests.payables.vendors import vendor_paid_by
from tests.spends import refreshed, settle_all, spend_reverse

pytestmark = pytest.mark.django_db(transaction=True)


def _balance(kind: str) -> int:
    return sum(Entry.objects.filter(account__kind=kind).values_list("amount_minor", flat=True))


def test_a_bill_is_held_approved_and_accrued_in_the_month_of_the_bill(tenant):
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Bills", min_amount_minor=100_000, levels=["finance_manager"]
    )
    vendor = vendor_paid_by(tenant)
    bill_day = local_today(tenant.organization).replace(day=1) - timedelta(days=3)
    bill_month = bill_day.replace(day=1)

    bill = bill_submit(tenant.finance, vendor, "1500.00", bill_date=bill_day)
    assert bill.kind == Transaction.Kind.BILL and bill.budget_month == bill_month
    assert Bill.objects.get(transaction=bill).vendor == vendor
    assert Receipt.objects.filter(transaction=bill).count() == 1

    settle_all(tenant.organization)
    assert refreshed(bill).status == Transaction.Status.AWAITING_APPROVAL
    period = BudgetPeriod.objects.get(department=tenant.department, month=bill_month)
    assert (period.held_minor, period.spent_minor) == (150_000, 0)

    request = ApprovalRequest.objects.get(transaction=bill)
    # The finance manager who entered it does not approve it: the step goes to an org admin.
    spending_services.approval_decide(actor=tenant.admin, request_id=request.id, approve=True, note="")

    assert refreshed(bill).status == Transaction.Status.POSTED
    period.refresh_from_db()
    assert (period.held_minor, period.spent_minor) == (0, 150_000)
    # Accrual: the department's expenses debited, accounts payable (GL 2000) credited; no card money.
    payable = Entry.objects.get(transaction=bill, account__kind=Account.Kind.ACCOUNTS_PAYABLE)
    assert (payable.amount_minor, payable.gl_code) == (-150_000, "2000")
    assert _balance(Account.Kind.EXPENSE) == 150_000
    assert not Entry.objects.filter(account__kind=Account.Kind.CARD_FUNDING).exists()
    report = ledger_verify()
    assert report["ok"], report["problems"]
    types = set(OutboxEvent.objects.values_list("type", flat=True))
    assert {"bill.submitted", "approval.requested", "bill.approved"} <= types


def test_the_vendors_default_gl_account_is_where_its_bills_post(tenant):
    vendor = vendor_paid_by(tenant)
    # The chart is made by the first posting that needs it.
    settle_all(tenant.organization)
    bill_submit(tenant.finance, vendor, "10.00")
    settle_all(tenant.organization)
    software = GLAccount.objects.get(organization=tenant.organization, code="6200")
    vendors.vendor_update(actor=tenant.finance, vendor_id=vendor.id, default_gl_account_id=software.id)
    bill = bill_submit(tenant.finance, vendor, "99.00")
    settle_all(tenant.organization)
    assert Entry.objects.get(transaction=bill, account__kind=Account.Kind.EXPENSE).gl_code == "6200"
    assert ledger_verify()["ok"]


def test_a_duplicate_bill_is_caught_and_writes_nothing(tenant):
    vendor = vendor_paid_by(tenant)
    bill_submit(tenant.finance, vendor, "500.00", number="INV-2026-001")
    with pytest.raises(Conflict, match="Duplicate bill"):
        bill_submit(tenant.admin, vendor, "500.00", number="inv 2026 001")
    assert Bill.objects.count() == 1 and Transaction.objects.filter(kind="bill").count() == 1
    # Another amount, or another vendor, is another bill.
    bill_submit(tenant.finance, vendor, "500.01", number="INV-2026-001")
    other = vendor_paid_by(tenant, name="Other Vendor SARL")
    bill_submit(tenant.finance, other, "500.00", number="INV-2026-001")
    assert Bill.objects.count() == 3


def test_a_rejected_bill_may_be_entered_again(tenant):
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Bills", min_amount_minor=1, levels=["finance_manager"]
    )
    vendor = vendor_paid_by(tenant)
    bill = bill_submit(tenant.finance, vendor, "80.00", number="A-1")
    settle_all(tenant.organization)
    request = ApprovalRequest.objects.get(transaction=bill)
    spending_services.approval_decide(actor=tenant.admin, request_id=request.id, approve=False, note="Wrong PO")
    assert refreshed(bill).status == Transaction.Status.REJECTED
    assert OutboxEvent.objects.filter(type="bill.rejected").count() == 1
    bill_submit(tenant.finance, vendor, "80.00", number="A-1")


def test_bad_bills_are_refused_naming_the_field(tenant):
    vendor = vendor_paid_by(tenant)
    with pytest.raises(InvalidInput) as refused:
        bill_submit(tenant.finance, vendor, "10.00", due_in_days=-1)
    assert "due_date" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        bill_submit(tenant.finance, vendor, "abc")
    assert "amount" in refused.value.fields
    assert not Bill.objects.exists()


def test_an_unpaid_bill_is_reversed_like_a_spend(tenant):
    vendor = vendor_paid_by(tenant)
    bill = bill_submit(tenant.finance, vendor, "40.00")
    settle_all(tenant.organization)
    spend_reverse(tenant.finance, refreshed(bill), reason="Credit note")
    assert _balance(Account.Kind.ACCOUNTS_PAYABLE) == 0
    report = ledger_verify()
    assert report["ok"], report["problems"]
