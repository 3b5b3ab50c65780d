"""The bank's return files as a bank writes them, record by record: the input the return file tests read."""

import uuid


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


def unknown_nacha_return_file() -> bytes:
    """A return file naming a trace number no payment has: a fresh file (another checksum) each time."""
    return nacha_return_file([(f"99999999{uuid.uuid4().int % 10**7:07d}", "R01", 100)])


def pain002_group_rejection(message_id: str, code: str) -> bytes:
    """A pain.002 rejecting the whole message, with no transaction listed."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BANK-STS-2</MsgId><CreDtTm>2026-12-05T09:30:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        f"<GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()
