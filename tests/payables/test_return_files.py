"""The bank's return files: NACHA return entries (addenda 99) matched by trace number, a pain.002 status
report's rejections matched by end-to-end id; each returned payment reopens its payable through the service a
manual return uses, audited and emitted; a file is taken once; an unknown reference is reported.

The files are written as a bank writes them (tests/payables/return_files.py): they are the input under test.
transaction=True: releases and returns take the organization's lock outside any transaction.
"""


import pytest

from apps.audit.models import AuditEvent
from apps.ledger.models import Account, Entry
from apps.ledger.selectors import ledger_verify
from apps.payables import payment_returns, selectors
from apps.payables.models import Bill, PaymentRun, ReturnFile
from apps.webhooks.models import OutboxEvent
from ledgerx.errors import Conflict, InvalidInput
from tests.payables.bills import bill_submit
from tests.payables.return_files import nacha_return_file, pain002_group_rejection, pain002_report
from tests.payables.vendors import paying_account, run_released, vendor_paid_by
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def _balance(kind: str) -> int:
    return sum(Entry.objects.filter(account__kind=kind).values_list("amount_minor", flat=True))


def _released_run(tenant, rail: str, amounts: list[str]) -> PaymentRun:
    account = paying_account(tenant, rail)
    vendor = vendor_paid_by(tenant, name="Boston Tools Inc" if rail == "ach" else "Bolt Supplies GmbH", rail=rail)
    for amount in amounts:
        bill_submit(tenant.finance, vendor, amount)
    settle_all(tenant.organization)
    return run_released(tenant, account)


def test_a_nacha_return_file_reopens_the_payables_it_names_and_reports_what_it_does_not(tenant):
    run = _released_run(tenant, "ach", ["100.00", "250.00"])
    first, second = run.lines.order_by("id")
    assert first.trace_number and first.trace_number in bytes(run.file_content).decode()
    content = nacha_return_file([(first.trace_number, "R03", first.amount_minor), ("999999990000042", "R01", 500)])

    imported = payment_returns.return_file_import(actor=tenant.finance, file_name="returns.ach", content=content)
    assert imported.format == ReturnFile.Format.NACHA
    assert [(o["reference"], o["outcome"]) for o in imported.outcomes] == [
        (first.trace_number, "returned"),
        ("999999990000042", "unknown"),
    ]
    first.refresh_from_db()
    assert (first.return_reason, first.return_file_id) == ("NACHA return R03", imported.id)
    assert selectors.bill_status(Bill.objects.get(id=first.bill_id)) == "returned"
    assert selectors.bill_status(Bill.objects.get(id=second.bill_id)) == "paid"
    owed_again = first.base_amount_minor
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (-owed_again, owed_again - 35_000)
    event = AuditEvent.objects.get(action=AuditEvent.Action.PAYMENT_RETURNED)
    assert (event.actor, event.after["return_file"]) == (tenant.finance, str(imported.id))
    assert OutboxEvent.objects.filter(type="bill.payment_returned").count() == 1
    report = ledger_verify()
    assert report["ok"], report["problems"]

    with pytest.raises(Conflict, match="uploaded on"):
        payment_returns.return_file_import(actor=tenant.finance, file_name="again.ach", content=content)
    # Another file naming a payment returned already says so, and returns nothing twice.
    again = payment_returns.return_file_import(
        actor=tenant.finance,
        file_name="later.ach",
        content=nacha_return_file([(first.trace_number, "R03", first.amount_minor)]),
    )
    assert [o["outcome"] for o in again.outcomes] == ["already_returned"]
    assert ReturnFile.objects.count() == 2 and _balance(Account.Kind.BANK) == owed_again - 35_000


def test_a_pain002_reports_rejections_matched_by_end_to_end_id(euro_tenant):
    tenant = euro_tenant
    run = _released_run(tenant, "sepa", ["40.00", "60.00"])
    first, second = run.lines.order_by("id")
    content = pain002_report(run.reference, [(second.end_to_end_id, "AC04"), ("LXVNOTOURS-0001", "AM05")])

    imported = payment_returns.return_file_import(actor=tenant.finance, file_name="status.xml", content=content)
    assert imported.format == ReturnFile.Format.PAIN_002
    assert [(o["reference"], o["outcome"]) for o in imported.outcomes] == [
        (second.end_to_end_id, "returned"),
        ("LXVNOTOURS-0001", "unknown"),
    ]
    second.refresh_from_db()
    assert second.return_reason == "pain.002 rejection AC04"
    owed_again = second.base_amount_minor
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (-owed_again, owed_again - 10_000)
    report = ledger_verify()
    assert report["ok"], report["problems"]

    # The whole message rejected, no transaction listed: every payment of the run it names.
    whole = payment_returns.return_file_import(
        actor=tenant.finance, file_name="rejected.xml", content=pain002_group_rejection(run.reference, "FF01")
    )
    assert sorted((o["reference"], o["outcome"]) for o in whole.outcomes) == sorted(
        [(first.end_to_end_id, "returned"), (second.end_to_end_id, "already_returned")]
    )
    assert (_balance(Account.Kind.ACCOUNTS_PAYABLE), _balance(Account.Kind.BANK)) == (-10_000, 0)
    report = ledger_verify()
    assert report["ok"], report["problems"]


@pytest.mark.django_db  # refused before any lock is taken: no transaction of its own needed
def test_a_file_that_is_no_return_file_is_refused_and_nothing_is_kept(tenant):
    refusals = [
        b"not a bank file at all",
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&a;</Document>',
        pain002_report("LXV1", []),
    ]
    for content in refusals:
        with pytest.raises(InvalidInput) as refused:
            payment_returns.return_file_import(actor=tenant.finance, file_name="x", content=content)
        assert "file" in refused.value.fields, content
    assert not ReturnFile.objects.exists()
