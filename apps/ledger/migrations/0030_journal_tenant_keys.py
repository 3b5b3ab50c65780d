"""The ledger's journal keyed by organization, for distribution (docs/scaling.md): transactions and entries
get primary keys (id, organization_id), which hold the entries' partition key; every key that points at
them becomes composite, and each one-to-one's unique key pairs with organization_id. The seals' primary
key (id, entry_id, organization_id) is migration 0028's."""

from django.db import migrations

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey, UniqueInOrganization

# (model, field, one-to-one): every key that points at a transaction or an entry.
JOURNAL_KEYS = [
    ("ledger.entry", "transaction", False),
    ("ledger.transaction", "reversal_of", True),
    ("ledger.entryseal", "entry", True),
    ("approvals.approvalrequest", "transaction", True),
    ("fraud.fraudalert", "transaction", False),
    ("fraud.transactionrisk", "transaction", True),
    ("payables.bill", "transaction", True),
    ("receipts.receipt", "transaction", False),
    ("receipts.receiptreminder", "transaction", True),
    ("reconciliation.statementmatch", "transaction", True),
    ("reimbursements.payoutline", "claim", True),
]


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0029_transaction_key_to_composite"),
        ("approvals", "0004_transaction_key_to_composite"),
        ("fraud", "0004_transaction_key_to_composite"),
        ("payables", "0006_transaction_key_to_composite"),
        ("receipts", "0004_transaction_key_to_composite"),
        ("reconciliation", "0003_transaction_key_to_composite"),
        ("reimbursements", "0003_transaction_key_to_composite"),
    ]

    operations = [
        TenantPrimaryKey("ledger.transaction"),
        TenantPrimaryKey("ledger.entry"),
        *(CompositeForeignKey(model, field) for model, field, _ in JOURNAL_KEYS),
        *(UniqueInOrganization(model, field) for model, field, one_to_one in JOURNAL_KEYS if one_to_one),
    ]
