"""The audit log's hash chain: every captured change (AuditChange) of an organization, and the
platform's (PLATFORM_CHAIN), sealed and checkpointed as the ledger is (ledgerx/hash_chain.py).

One chain covers both logs: each AuditEvent is captured as an AuditChange INSERT with all its
columns, and verify_audit checks every event against its capture.
"""

from ledgerx import hash_chain
from ledgerx.hash_chain import HashChain

AUDIT_CHAIN = HashChain(
    rows="audit_auditchange",
    key="r.organization_id",
    # One JSON array: its text form is PostgreSQL's own and unambiguous (a `|` inside a value cannot
    # move text from one column to the next), and NULLs keep their places.
    payload=(
        "r.id, jsonb_build_array(r.organization_id, r.table_name, r.row_id, r.operation, r.before, r.after,"
        " r.actor, r.actor_user_id, r.origin, r.context_id, (extract(epoch FROM r.changed_at) * 1000000)::bigint)"
    ),
    created="r.changed_at",
    seals="audit_auditchangeseal",
    link="change_id",
    checkpoints="audit_auditcheckpoint",
    lock_namespace=0xA0D1,
    noun="audit change",
    nouns="audit changes",
    signature_domain="audit|",
)


def audit_seal_all() -> int:
    """Seal every organization's unsealed audit changes. Returns how many were sealed."""
    return hash_chain.chain_seal_all(AUDIT_CHAIN)
