"""Statement sources, files and dated spends for the reconciliation tests, made through the real services."""

import uuid
from datetime import UTC, date, datetime, time

import time_machine

from apps.reconciliation import services
from apps.reconciliation.models import StatementSource
from tests.spends import spend_settled

# Every test that needs spends on past days runs its whole world (tenant included) at this moment.
TODAY = date(2026, 6, 20)
NOW = datetime.combine(TODAY, time(12, 0), tzinfo=UTC)


def source_of(organization, **mapping) -> StatementSource:
    """A card statement source: Date, Amount (charges positive), Description, Reference; `mapping` changes it."""
    fields = {
        "name": f"Card {uuid.uuid4().hex[:6]}",
        "kind": StatementSource.Kind.CARD,
        "currency": organization.currency,
        "date_column": "Date",
        "amount_column": "Amount",
        "description_column": "Description",
        "reference_column": "Reference",
        **mapping,
    }
    return services.source_save(source=StatementSource(organization=organization, **fields))


def csv_bytes(rows: list[tuple], header: tuple = ("Date", "Amount", "Description", "Reference")) -> bytes:
    return "\n".join(",".join(str(cell) for cell in row) for row in [header, *rows]).encode() + b"\n"


def spend_on(user, day: date, amount: str, merchant: str, *, hour: int = 10):
    """A posted spend of `user`'s made at `hour` o'clock UTC on `day`."""
    with time_machine.travel(datetime.combine(day, time(hour, 0), tzinfo=UTC), tick=True):
        return spend_settled(user, amount, merchant=merchant)


def ofx_document(transactions: list[tuple[str, str, str, str]], *, currency: str = "USD") -> bytes:
    """An OFX 1.02 (SGML) credit card statement; each transaction (DTPOSTED yyyymmdd, TRNAMT, FITID, NAME),
    money out negative as OFX writes it."""
    entries = "\n".join(
        f"<STMTTRN><TRNTYPE>{'DEBIT' if amount.startswith('-') else 'CREDIT'}<DTPOSTED>{posted}<TRNAMT>{amount}"
        f"<FITID>{fitid}<NAME>{name}</STMTTRN>"
        for posted, amount, fitid, name in transactions
    )
    return f"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260620120000<LANGUAGE>ENG</SONRS>
</SIGNONMSGSRSV1>
<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<CCSTMTRS><CURDEF>{currency}<CCACCTFROM><ACCTID>4111111111111111</CCACCTFROM>
<BANKTRANLIST><DTSTART>20260601<DTEND>20260620
{entries}
</BANKTRANLIST><LEDGERBAL><BALAMT>0.00<DTASOF>20260620</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
""".encode()
