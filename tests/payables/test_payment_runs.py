"""Payment runs: approved bills paid from a paying account by a bank file a bank accepts, the payable
cleared against the bank in the ledger, and only to payment details two people approved.

The pain.001 file is validated here against the official XSD with xmlschema (as its own, separate check),
and the NACHA file is read back by carta-ach's parser, which is not the code that wrote it.
"""

import hashlib
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import sepaxml
import xmlschema
from ach.parser import Parser as AchParser
from django.db import connections, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.ledger.models import Account, Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.ledger.services import BillPayment, bill_payment_journal_write
from apps.payables import payment_returns, payment_runs, selectors, vendors
from apps.payables.bank_details import bank_details_validate
from apps.payables.models import Bill, PaymentLine, PaymentRun
from apps.webhooks.models import OutboxEvent
from ledgerx.errors import Conflict, Forbidden, InvalidInput, LedgerXError
from tests.payables.bills import bill_submit, local_today
from tests.payables.vendors import paying_account, vendor_paid_by
from tests.spends import refreshed, settle_all, spend_reverse

pytestmark = pytest.mark.django_db(transaction=True)

PAIN_XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _balance(kind: str) -> int:
    return sum(Entry.objects.filter(account__kind=kind).values_list("amount_minor", flat=True))


def _run(tenant, account, *, due_in_days: int = 30) -> PaymentRun:
    today = local_today(tenant.organization)
    return payment_runs.payment_run_create(
        actor=tenant.finance,
        paying_account_id=account.id,
        due_until=today + timedelta(days=due_in_days),
        execution_date=today + timedelta(days=1),
    )


def test_a_sepa_run_writes_a_pain001_that_validates_and_carries_the_exact_sums(euro_tenant):
    tenant = euro_tenant
    account = paying_account(tenant, "sepa")
    bolt = vendor_paid_by(tenant)
    paris = vendor_paid_by(tenant, name="Papeterie de Paris SA", iban="FR1420041010050500013M02606", bic="")
    later = bill_submit(tenant.finance, bolt, "10.00", due_in_days=90)
    bills = [bill_submit(tenant.finance, bolt, "1234.56"), bill_submit(tenant.finance, paris, "99.99")]
    settle_all(tenant.organization)
    spent = _balance(Account.Kind.EXPENSE)

    [preview] = selectors.payment_preview(
        organization=tenant.organization, due_until=local_today(tenant.organization) + timedelta(days=30)
    )
    assert preview.total_minor == 133_455 and len(preview.bills) == 2
    run = _run(tenant, account)
    assert run.total_minor == 133_455 and run.status == PaymentRun.Status.DRAFT
    assert not Entry.objects.filter(account__kind=Account.Kind.BANK).exists()

    run = payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)
    content = bytes(run.file_content)
    assert hashlib.sha256(content).hexdigest() == run.file_sha256
    xmlschema.XMLSchema(str(PAIN_XSD)).validate(content.decode())
    document = ElementTree.fromstring(content)
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == run.reference
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "1334.55"
    assert document.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:CtrlSum", namespaces=NS) == "1334.55"
    assert document.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == account.iban
    paid = {
        tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS): Decimal(tx.findtext("p:Amt/p:InstdAmt", namespaces=NS))
        for tx in document.iterfind(".//p:CdtTrfTxInf", NS)
    }
    assert paid == {bolt.iban: Decimal("1234.56"), "FR1420041010050500013M02606": Decimal("99.99")}

    # The payable cleared against the bank; the budgets (the expense) untouched by paying.
    assert _balance(Account.Kind.ACCOUNTS_PAYABLE) == -1_000
    assert _balance(Account.Kind.BANK) == -133_455
    assert _balance(Account.Kind.EXPENSE) == spent
    for bill in bills:
        assert selectors.bill_status(Bill.objects.get(transaction=bill)) == "paid"
    assert selectors.bill_status(Bill.objects.get(transaction=later)) == "approved"
    report = ledger_verify()
    assert report["ok"], report["problems"]
    assert OutboxEvent.objects.filter(type="bill.paid").count() == 2
    assert OutboxEvent.objects.filter(type="payment_run.released").count() == 1

    with pytest.raises(Conflict):
        payment_runs.payment_run_release(actor=tenant.admin, run_id=run.id)
    run.refresh_from_db()
    assert bytes(run.file_content) == content
    with pytest.raises(InvalidInput):
        _run(tenant, account)  # nothing left due: the paid bills are not paid twice


def test_an_ach_run_writes_a_nacha_file_an_independent_parser_reads_with_matching_controls(tenant):
    account = paying_account(tenant, "ach")
    boston = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach", routing_number="011000015")
    chase = vendor_paid_by(
        tenant,
        name="Chase Office Supply LLC",
        rail="ach",
        routing_number="021000021",
        account_number="55501234",
        account_type="savings",
    )
    bill_submit(tenant.finance, boston, "1200.00")
    bill_submit(tenant.finance, boston, "0.99")
    bill_submit(tenant.finance, chase, "450.25")
    settle_all(tenant.organization)

    run = payment_runs.payment_run_release(actor=tenant.finance, run_id=_run(tenant, account).id)
    text = bytes(run.file_content).decode("ascii")
    lines = text.splitlines()
    assert all(len(line) == 94 for line in lines) and len(lines) % 10 == 0
    parsed = AchParser(text).as_dict()
    [batch] = parsed["batches"]
    entries = [entry["entry_detail"] for entry in batch["entries"]]
    amounts = sorted(int(entry["amount"]) for entry in entries)
    assert amounts == [99, 45_025, 120_000]
    assert int(batch["batch_control"]["credit_amount"]) == sum(amounts) == run.total_minor
    assert int(batch["batch_control"]["debit_amount"]) == 0
    assert int(batch["batch_control"]["entadd_count"]) == 3
    entry_hash = sum(int(entry["recv_dfi_id"]) for entry in entries) % 10**10
    assert int(batch["batch_control"]["entry_hash"]) == entry_hash
    control = parsed["file_control"]
    assert int(control["credit_amount"]) == sum(amounts)
    assert int(control["entry_hash"]) == entry_hash
    assert int(control["entadd_count"]) == 3 and int(control["batch_count"]) == 1
    assert int(control["block_count"]) == len(lines) // 10
    assert batch["batch_header"]["std_ent_cls_code"] == "CCD"
    codes = {entry["dfi_acnt_num"].strip(): entry["transaction_code"] for entry in entries}
    assert codes == {"123456789": "22", "55501234": "32"}
    assert _balance(Account.Kind.BANK) == -run.total_minor
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_a_changed_bank_account_without_a_second_approval_cannot_be_paid(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill = bill_submit(tenant.finance, vendor, "300.00")
    settle_all(tenant.organization)
    run = _run(tenant, account)

    # Someone changes where the vendor is paid after the run was reviewed: it waits for a second person.
    fraud = bank_details_validate(rail="ach", routing_number="026009593", account_number="66660000")
    change = vendors.vendor_bank_change_request(actor=tenant.finance, vendor_id=vendor.id, details=fraud)
    with pytest.raises(Conflict, match="waits for a second approval"):
        payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)
    payment_runs.payment_run_discard(actor=tenant.finance, run_id=run.id)
    with pytest.raises(InvalidInput):
        _run(tenant, account)  # a vendor with a change waiting is not paid at all
    assert [
        reason
        for _, reason in selectors.bills_held(
            organization=tenant.organization, due_until=local_today(tenant.organization) + timedelta(days=30)
        )
    ] == ["A change of the vendor's payment details waits for a second approval."]
    assert not Entry.objects.filter(account__kind=Account.Kind.BANK).exists()

    # Approved by a second person, the new details are paid, and the file says so.
    vendors.vendor_bank_change_decide(actor=tenant.admin, change_id=change.id, approve=True)
    run = payment_runs.payment_run_release(actor=tenant.finance, run_id=_run(tenant, account).id)
    [entry] = [
        e["entry_detail"] for e in AchParser(bytes(run.file_content).decode()).as_dict()["batches"][0]["entries"]
    ]
    assert (entry["recv_dfi_id"] + entry["check_digit"], entry["dfi_acnt_num"].strip()) == ("026009593", "66660000")
    assert Transaction.objects.get(id=bill.id).status == Transaction.Status.POSTED
    assert ledger_verify()["ok"]


def test_a_draft_run_is_released_against_the_details_it_was_reviewed_with(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill_submit(tenant.finance, vendor, "300.00")
    settle_all(tenant.organization)
    run = _run(tenant, account)
    change = vendors.vendor_bank_change_request(
        actor=tenant.finance,
        vendor_id=vendor.id,
        details=bank_details_validate(rail="ach", routing_number="026009593", account_number="66660000"),
    )
    vendors.vendor_bank_change_decide(actor=tenant.admin, change_id=change.id, approve=True)
    with pytest.raises(Conflict, match="changed"):
        payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)


def test_a_paid_bill_is_not_reversed(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill = bill_submit(tenant.finance, vendor, "300.00")
    settle_all(tenant.organization)
    payment_runs.payment_run_release(actor=tenant.finance, run_id=_run(tenant, account).id)
    with pytest.raises(Conflict, match="payment run"):
        spend_reverse(tenant.finance, refreshed(bill))


def test_a_returned_payment_owes_the_bill_again_and_a_later_run_pays_it(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill = bill_submit(tenant.finance, vendor, "300.00")
    settle_all(tenant.organization)
    spent = _balance(Account.Kind.EXPENSE)
    run = payment_runs.payment_run_release(actor=tenant.finance, run_id=_run(tenant, account).id)
    [line] = run.lines.all()

    payment_returns.payment_return(actor=tenant.finance, line_id=line.id, reason="R03 No account")
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (-30_000, 0)
    assert _balance(Account.Kind.EXPENSE) == spent
    assert selectors.bill_status(Bill.objects.get(transaction=bill)) == "returned"
    report = ledger_verify()
    assert report["ok"], report["problems"]
    assert OutboxEvent.objects.filter(type="bill.payment_returned").count() == 1
    with pytest.raises(Conflict):
        payment_returns.payment_return(actor=tenant.finance, line_id=line.id, reason="again")
    # The run's file is what was sent, unchanged.
    run.refresh_from_db()
    assert hashlib.sha256(bytes(run.file_content)).hexdigest() == run.file_sha256

    again = payment_runs.payment_run_release(actor=tenant.finance, run_id=_run(tenant, account).id)
    assert again.total_minor == 30_000
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (0, -30_000)
    assert Entry.objects.filter(transaction=bill).count() == 8
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_verify_ledger_names_a_payment_with_no_released_line(tenant):
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    bill = bill_submit(tenant.finance, vendor, "300.00")
    settle_all(tenant.organization)
    with transaction.atomic():
        bill_payment_journal_write(
            organization=tenant.organization, payments=[BillPayment(bill.id, 30_000, 30_000)], now=timezone.now()
        )
    problems = ledger_verify()["problems"]
    assert any("Accounts payable" in problem for problem in problems)
    assert any(f"Bill {bill.id}: 0 released payment lines" in problem for problem in problems)


def _race(*calls) -> list:
    """Run the calls at once, each in a thread with its own connection; their results or the errors raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except LedgerXError as error:
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_drafts_at_once_never_share_a_bill_and_two_releases_pay_once(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    for amount in ("100.00", "200.00", "300.00"):
        bill_submit(tenant.finance, vendor, amount)
    settle_all(tenant.organization)

    drafts = _race(lambda: _run(tenant, account), lambda: _run(tenant, account))
    runs = [outcome for outcome in drafts if isinstance(outcome, PaymentRun)]
    assert len(runs) == 1, drafts  # the other found nothing left to pay
    assert isinstance(next(o for o in drafts if not isinstance(o, PaymentRun)), InvalidInput)
    assert PaymentLine.objects.filter(run__status=PaymentRun.Status.DRAFT).count() == 3
    [run] = runs

    releases = _race(*[lambda: payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)] * 2)
    assert sum(isinstance(outcome, PaymentRun) for outcome in releases) == 1, releases
    assert sum(isinstance(outcome, Conflict) for outcome in releases) == 1, releases
    assert -_balance(Account.Kind.BANK) == 60_000  # paid once
    assert _balance(Account.Kind.ACCOUNTS_PAYABLE) == 0
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_the_schedule_drafts_the_bills_due_within_its_days_once_and_never_pays(tenant):
    account = paying_account(tenant, "ach")
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc", rail="ach")
    soon = bill_submit(tenant.finance, vendor, "100.00", due_in_days=3)
    bill_submit(tenant.finance, vendor, "900.00", due_in_days=40)
    settle_all(tenant.organization)
    assert payment_runs.scheduled_runs_draft() == []  # no account on a schedule yet

    vendors.paying_account_schedule_set(actor=tenant.finance, account_id=account.id, due_within_days=7)
    [run] = payment_runs.scheduled_runs_draft()
    assert run.status == PaymentRun.Status.DRAFT and run.created_by is None
    assert [line.bill_id for line in run.lines.all()] == [soon.bill.id]
    assert run.execution_date == local_today(tenant.organization)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PAYMENT_RUN_CREATED, target_id=str(run.id))
    assert event.actor is None and event.actor_email == payment_runs.SCHEDULE_LABEL
    assert payment_runs.scheduled_runs_draft() == []  # a draft is open: nothing more until it is released
    assert not Entry.objects.filter(account__kind=Account.Kind.BANK).exists()  # drafted, not paid

    payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)
    assert payment_runs.scheduled_runs_draft() == []  # the other bill is not due within 7 days


def test_a_schedule_is_set_by_finance_within_bounds_and_audited(tenant):
    account = paying_account(tenant, "ach")
    with pytest.raises(Forbidden):
        vendors.paying_account_schedule_set(actor=tenant.employee, account_id=account.id, due_within_days=7)
    with pytest.raises(InvalidInput):
        vendors.paying_account_schedule_set(actor=tenant.finance, account_id=account.id, due_within_days=91)
    vendors.paying_account_schedule_set(actor=tenant.finance, account_id=account.id, due_within_days=14)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PAYING_ACCOUNT_SCHEDULE_SET)
    assert event.actor == tenant.finance
    assert (event.before, event.after) == ({"scheduled_due_within_days": None}, {"scheduled_due_within_days": 14})
