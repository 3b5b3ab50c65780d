"""The per-organization hash chain over ledger entries (architecture.md: tampering below the
application is detectable by `verify_ledger`), and its signed checkpoints.

The chain and its checkpoints are ledgerx/hash_chain.py and ledgerx/chain_checkpoints.py, shared
with the audit log; this module says what the ledger's chain covers: every column of an entry, its GL code and cost
centre included.
"""

import uuid
from datetime import UTC, datetime, timedelta

from ledgerx import hash_chain
from ledgerx.hash_chain import GENESIS_HASH, UNSEALED_PROBLEM_AFTER, HashChain

from .models import Entry

__all__ = ["GENESIS_HASH", "LEDGER_CHAIN", "UNSEALED_PROBLEM_AFTER", "entries_seal", "ledger_seal_all", "link_hash"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

LEDGER_CHAIN = HashChain(
    # Read through the views of the live and the archived months (migration 0028).
    rows="ledger_entry_history",
    key="r.organization_id",
    # The time as whole microseconds since the Unix epoch, as entry_payload below writes it. The GL code
    # and cost centre only when either is set (concat_ws skips the NULLs): the entries sealed before the
    # chart of accounts, which have neither, keep the payload, and the hash, they were sealed with.
    payload=(
        "r.id, r.organization_id, r.transaction_id, r.account_id, r.amount_minor, r.currency,"
        " (extract(epoch FROM r.created_at) * 1000000)::bigint,"
        " CASE WHEN r.gl_code <> '' OR r.cost_centre <> '' THEN r.gl_code END,"
        " CASE WHEN r.gl_code <> '' OR r.cost_centre <> '' THEN r.cost_centre END"
    ),
    created="r.created_at",
    seals="ledger_entryseal_history",
    # Archiving a month requires every entry of it sealed: the unsealed are all in the live tables.
    live_rows="ledger_entry",
    live_seals="ledger_entryseal",
    link="entry_id",
    checkpoints="ledger_chaincheckpoint",
    lock_namespace=0x5EA1,
    noun="entry",
    nouns="entries",
    signature_domain="",
)


def entry_payload(entry: Entry) -> str:
    """What a link's hash covers of `entry`, in the text form PostgreSQL writes (LEDGER_CHAIN.payload):
    `|`-joined decimal integers, lower-case hyphenated UUIDs, the time in microseconds since the epoch,
    then the GL code and cost centre if either is set (a code never holds `|`: models.chart.CODE_PATTERN).
    """
    fields = [
        str(entry.id),
        str(entry.organization_id),
        str(entry.transaction_id),
        str(entry.account_id),
        str(entry.amount_minor),
        entry.currency,
        str((entry.created_at - EPOCH) // timedelta(microseconds=1)),
    ]
    if entry.gl_code or entry.cost_centre:
        fields += [entry.gl_code, entry.cost_centre]
    return "|".join(fields)


def link_hash(entry: Entry, *, prev_hash: str, sequence: int) -> str:
    """The hash of `entry` as link `sequence` of its chain, after `prev_hash`."""
    return hash_chain.link_hash(prev_hash=prev_hash, sequence=sequence, payload=entry_payload(entry))


def entries_seal(*, organization_id: uuid.UUID, batch_size: int = hash_chain.SEAL_BATCH_SIZE) -> int:
    """Chain up to `batch_size` of the organization's unsealed committed entries (hash_chain.chain_seal)."""
    return hash_chain.chain_seal(LEDGER_CHAIN, organization_id=organization_id, batch_size=batch_size)


def ledger_seal_all() -> int:
    """Seal every organization's unsealed entries. Returns how many entries were sealed."""
    return hash_chain.chain_seal_all(LEDGER_CHAIN)
