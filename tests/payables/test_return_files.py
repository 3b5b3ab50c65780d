"""The bank's return files: NACHA return entries (addenda 99) matched by trace number, a pain.002 status
report's rejections matched by end-to-end id; each returned payment reopens its payable through the service a
manual return uses, audited and emitted; a file is taken once; an unknown reference is reported.

The files are written here as a bank writes them, record by record: they are the input under test.
transaction=True: releases and returns take the organization's lock outside any transaction.
"""

from datetime import timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.ledger.models import Account, Entry
from apps.ledger.selectors import ledger_verify
from apps.payables import payment_returns, payment_runs, selectors
from apps.payables.models import Bill, PaymentRun, ReturnFile
from apps.webhooks.models import OutboxEvent
from ledgerx.errors import Conflict, InvalidInput
from tests.payables.bills import bill_submit, local_today
from tests.payables.vendors import paying_account, vendor_paid_by
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
    today = local_today(tenant.organization)
    run = payment_runs.payment_run_create(
        actor=tenant.finance,
        paying_account_id=account.id,
        due_until=today + timedelta(days=30),
        execution_date=today + timedelta(days=1),
    )
    return payment_runs.payment_run_release(actor=tenant.finance, run_id=run.id)


def nacha_return_file(returns: list[tuple[str, str, int]]) -> bytes:
    """A NACHA return file: per (original trace number, R-code, amount), a return entry (transaction code 21,
    a returned checking credit) and its addenda of type 99."""
    records = [
        "".join(("101", " 121000248", "0110000152", "261204", "1200", "A094101", "RETURNING BANK".ljust(23)))
        + "ACME INC".ljust(31),
        "".join(("5220", "ACME INC".ljust(36), "1234567890", "CCD", "VENDOR PAY".ljust(16), "261205", "000"))
        + "1011000010000001",
    ]
    for number, (trace, code, amount) in enumerate(returns, start=1):
        rdfi_trace = f"01100001{number:07d}"
        entry = ("6", "21", "01100001", "5", "123456789".ljust(17), f"{amount:010d}", " " * 15)
        records.append("".join((*entry, "BOSTON TOOLS INC".ljust(22), "  ", "1", rdfi_trace)))
        records.append("".join(("7", "99", code, trace, " " * 6, "12100024", " " * 44, rdfi_trace)))
    count = len(returns) * 2
    records.append(f"8220{count:06d}{0:010d}{0:012d}{0:012d}1234567890{' ' * 25}011000010000001")
    records.append(f"9000001000001{count:08d}{0:010d}{0:012d}{0:012d}{' ' * 39}")
    assert all(len(record) == 94 for record in records), [len(record) for record in records]
    return ("\n".join(records) + "\n").encode("ascii")


def pain002_report(message_id: str, rejected: list[tuple[str, str]]) -> bytes:
    transactions = "".join(
        f"<TxInfAndSts><StsId>S{n}</StsId><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf></TxInfAndSts>"
        for n, (e2e, code) in enumerate(rejected)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BANK-STS-1</MsgId><CreDtTm>2026-12-05T09:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        "<GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{message_id}</OrgnlPmtInfId>{transactions}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


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
    _, second = run.lines.order_by("id")
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


@pytest.mark.parametrize(
    "content",
    [
        b"not a bank file at all",
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.03'/>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&a;</Document>',
        pain002_report("LXV1", []),
    ],
    ids=["text", "a pain.001", "entities", "nothing rejected"],
)
def test_a_file_that_is_no_return_file_is_refused_and_nothing_is_kept(tenant, content):
    with pytest.raises(InvalidInput) as refused:
        payment_returns.return_file_import(actor=tenant.finance, file_name="x", content=content)
    assert "file" in refused.value.fields
    assert not ReturnFile.objects.exists()
