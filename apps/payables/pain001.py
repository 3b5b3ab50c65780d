"""The ISO 20022 pain.001 (customer credit transfer initiation) file of a SEPA payment run.

Written by sepaxml in pain.001.001.03, the version every SEPA bank accepts, which validates it against the
official XSD it bundles before it returns a byte (export(validate=True)): a file that would not validate is
never stored. One payment information block (batch booking), the run's reference as the message id, each
payment's end-to-end id its payment line's.
"""

from datetime import datetime

from sepaxml import SepaTransfer

from .models import PaymentLine, PaymentRun

PAIN_001_SCHEMA = "pain.001.001.03"


def pain001_build(*, run: PaymentRun, lines: list[PaymentLine], invoice_numbers: dict[int, str], at: datetime) -> bytes:
    account = run.paying_account
    transfer = SepaTransfer(
        {"name": account.name, "IBAN": account.iban, "BIC": account.bic, "batch": True, "currency": run.currency},
        schema=PAIN_001_SCHEMA,
    )
    # sepaxml draws a random message id and stamps the time it runs: the run's own are what the bank sees.
    transfer.msg_id = run.reference
    header = transfer._xml.find("CstmrCdtTrfInitn/GrpHdr")
    header.find("MsgId").text = run.reference
    header.find("CreDtTm").text = at.strftime("%Y-%m-%dT%H:%M:%S")
    for line in lines:
        transfer.add_payment(
            {
                "name": line.vendor_name,
                "IBAN": line.iban,
                "BIC": line.bic,
                "amount": line.amount_minor,
                "execution_date": run.execution_date,
                "description": f"Invoice {invoice_numbers[line.id]}"[:140],
                "endtoend_id": line.end_to_end_id,
            }
        )
    return transfer.export(validate=True)
