"""Reading the bank's return files: which of our payments came back, and why.

NACHA: a return file is an ACH file whose entries are the returned ones, each with an addenda record of type
99 that carries the return reason code (R01, R03, ...) and the trace number of our original entry. carta-ach's
parser reads the records; the addenda's fields are the positions the NACHA Operating Rules give them within
its payment-related information.

SEPA: the ISO 20022 pain.002 (customer payment status report) is the bank's answer to our pain.001: it names
our message id (the run's reference) and, per transaction rejected (RJCT), our end-to-end id and the reason
code. Chosen over camt.054 because it answers our own file, by our own ids, before any money settles: a
rejection there means the payment was never made, which is what reopening the payable says; a camt.054 is a
statement of the account's bookings, for reconciliation. No package ships pain.002's XSD, so the file is read
with defusedxml (no entities, no external references) and its structure checked here; versions .03 to .14 of
the message keep the elements read.
"""

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from ach.parser import Parser as AchParser
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from ledgerx.errors import InvalidInput

NACHA_RECORD_LENGTH = 94
RETURN_ADDENDA_TYPE = "99"
PAIN_002_NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:pain.002.001."
REJECTED = "RJCT"


@dataclass(frozen=True)
class ReturnedEntry:
    """One payment the bank sent back: how the file names it, and why."""

    reference: str  # NACHA: our original entry's trace number; pain.002: our end-to-end id
    reason: str
    message_id: str = ""  # pain.002: the original message id (our run's reference), when a whole run is rejected


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"file": [message]})


def nacha_returns(content: bytes) -> list[ReturnedEntry]:
    """Every returned entry of a NACHA return file; 400 when it is not one (no entries, a record not of 94
    characters, an entry without its return addenda)."""
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError:
        raise _refuse("A NACHA file is plain ASCII.") from None
    records = [record for record in text.replace("\r\n", "\n").split("\n") if record]
    if not records or any(len(record) != NACHA_RECORD_LENGTH for record in records):
        raise _refuse(f"A NACHA file is made of {NACHA_RECORD_LENGTH}-character records.")
    try:
        parsed = AchParser("\n".join(records)).as_dict()
    except (IndexError, KeyError) as error:
        raise _refuse(f"Not a NACHA file: {error}.") from None
    if "file_header" not in parsed or "file_control" not in parsed:
        raise _refuse("Not a NACHA file: no file header or control record.")
    returned = []
    for batch in parsed["batches"]:
        for entry in batch["entries"]:
            addenda = [a for a in entry["addenda"] if a["addenda_type_code"] == RETURN_ADDENDA_TYPE]
            if len(addenda) != 1:
                trace = entry["entry_detail"]["trace_num"]
                raise _refuse(f"Entry {trace} has no return addenda (type 99): not a return file.")
            # Type 99's payment-related information: the reason code, then the original entry's trace number.
            information = addenda[0]["pmt_rel_info"]
            code, original_trace = information[0:3], information[3:18]
            returned.append(ReturnedEntry(reference=original_trace.strip(), reason=f"NACHA return {code}"))
    if not returned:
        raise _refuse("The file returns no entry.")
    return returned


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child) == name), None)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _reason(element: Element) -> str:
    information = _child(element, "StsRsnInf")
    code = _text(information, "Rsn", "Cd") or _text(information, "Rsn", "Prtry")
    details = _text(information, "AddtlInf")
    return " ".join(part for part in ("pain.002 rejection", code, details) if part)[:200]


def pain002_rejections(content: bytes) -> list[ReturnedEntry]:
    """Every rejected transaction of a pain.002 status report: by its original end-to-end id; a group or payment
    information block rejected without its transactions listed rejects every payment of the message it names.
    400 when it is not a pain.002, or rejects nothing."""
    try:
        root = ElementTree.fromstring(content)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise _refuse(f"Not an XML file: {error}.") from None
    if not root.tag.startswith("{" + PAIN_002_NAMESPACE_PREFIX) or _local(root) != "Document":
        raise _refuse("Not an ISO 20022 pain.002 payment status report.")
    report = _child(root, "CstmrPmtStsRpt")
    group = _child(report, "OrgnlGrpInfAndSts")
    message_id = _text(group, "OrgnlMsgId")
    if report is None or not message_id:
        raise _refuse("The report names no original message (OrgnlGrpInfAndSts/OrgnlMsgId).")
    rejected = []
    payment_blocks = [child for child in report if _local(child) == "OrgnlPmtInfAndSts"]
    transactions = [tx for block in payment_blocks for tx in block if _local(tx) == "TxInfAndSts"]
    for transaction in transactions:
        if _text(transaction, "TxSts") != REJECTED:
            continue
        # Our pain.001 gives each payment an end-to-end id and no instruction id (sepaxml writes none).
        end_to_end_id = _text(transaction, "OrgnlEndToEndId")
        if not end_to_end_id:
            raise _refuse("A rejected transaction names no original end-to-end id.")
        rejected.append(ReturnedEntry(reference=end_to_end_id, reason=_reason(transaction), message_id=message_id))
    if not transactions:
        whole = next(
            (
                element
                for element in (group, *payment_blocks)
                if _text(element, "GrpSts") == REJECTED or _text(element, "PmtInfSts") == REJECTED
            ),
            None,
        )
        if whole is not None:
            rejected.append(ReturnedEntry(reference="", reason=_reason(whole), message_id=message_id))
    if not rejected:
        raise _refuse("The report rejects no payment.")
    return rejected
