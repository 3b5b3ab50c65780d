"""The NACHA ACH file of a US payment run: one file, one batch of CCD credits (corporate vendor payments).

Written here, record by record, from the NACHA Operating Rules' fixed 94-character layouts, rather than by
an ACH library: the tests read every file back with an independent parser (carta-ach's), which proves
something only when that parser is not also the writer. Each layout is one function below; the control
records carry the entry counts, the entry hash (the sum of the receiving banks' 8-digit ids, its last ten
digits) and the credit totals, and the file is padded with 9s to whole blocks of ten records.
"""

from datetime import datetime

from .models import PaymentLine, PaymentRun

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
# Service class 220: credits only. Transaction codes: 22 checking credit, 32 savings credit.
CREDITS_ONLY = "220"
CREDIT_CODE = {"checking": "22", "savings": "32"}


def _alpha(value: str, length: int) -> str:
    """Left-justified, blank-filled, upper case, only the characters the rules allow."""
    cleaned = "".join(ch if 32 <= ord(ch) < 127 else " " for ch in value.upper())
    return cleaned[:length].ljust(length)


def _numeric(value: int, length: int) -> str:
    text = str(value)
    if value < 0 or len(text) > length:
        raise ValueError(f"{value} does not fit a {length}-digit field")
    return text.zfill(length)


def _record(*fields: str) -> str:
    record = "".join(fields)
    if len(record) != RECORD_LENGTH:
        raise ValueError(f"a NACHA record is {RECORD_LENGTH} characters, not {len(record)}: {record!r}")
    return record


def entry_hash(lines: list[PaymentLine]) -> int:
    """The sum of the receiving banks' 8-digit routing ids, its last ten digits kept."""
    return sum(int(line.routing_number[:8]) for line in lines) % 10**10


def nacha_build(*, run: PaymentRun, lines: list[PaymentLine], at: datetime) -> bytes:
    account = run.paying_account
    odfi = account.routing_number[:8]
    total = sum(line.amount_minor for line in lines)
    hashed = entry_hash(lines)
    records = [
        _record(
            "1",
            "01",
            " " + account.routing_number,  # immediate destination: the originating bank
            _alpha(account.ach_company_id, 10),  # immediate origin: the company, as the bank identifies it
            at.strftime("%y%m%d"),
            at.strftime("%H%M"),
            "A",
            "094",
            _numeric(BLOCKING_FACTOR, 2),
            "1",
            _alpha(f"ROUTING {account.routing_number}", 23),
            _alpha(account.name, 23),
            _alpha(run.reference[-8:], 8),
        ),
        _record(
            "5",
            CREDITS_ONLY,
            _alpha(account.ach_company_name, 16),
            _alpha(run.reference, 20),
            _alpha(account.ach_company_id, 10),
            "CCD",
            _alpha("VENDOR PAY", 10),
            run.execution_date.strftime("%y%m%d"),
            run.execution_date.strftime("%y%m%d"),
            "   ",
            "1",
            odfi,
            _numeric(1, 7),
        ),
    ]
    for line in lines:
        records.append(
            _record(
                "6",
                CREDIT_CODE[line.account_type or "checking"],
                line.routing_number,  # the receiving bank's 8-digit id and its check digit
                _alpha(line.account_number, 17),
                _numeric(line.amount_minor, 10),
                _alpha(line.end_to_end_id[-15:], 15),
                _alpha(line.vendor_name, 22),
                "  ",
                "0",
                line.trace_number,
            )
        )
    records.append(
        _record(
            "8",
            CREDITS_ONLY,
            _numeric(len(lines), 6),
            _numeric(hashed, 10),
            _numeric(0, 12),
            _numeric(total, 12),
            _alpha(account.ach_company_id, 10),
            " " * 19,
            " " * 6,
            odfi,
            _numeric(1, 7),
        )
    )
    blocks = -(-(len(records) + 1) // BLOCKING_FACTOR)
    records.append(
        _record(
            "9",
            _numeric(1, 6),
            _numeric(blocks, 6),
            _numeric(len(lines), 8),
            _numeric(hashed, 10),
            _numeric(0, 12),
            _numeric(total, 12),
            " " * 39,
        )
    )
    records += ["9" * RECORD_LENGTH] * (blocks * BLOCKING_FACTOR - len(records))
    return ("\n".join(records) + "\n").encode("ascii")
