"""A per-organization hash chain over an append-only table: the ledger's entries and the audit log
share it (apps/ledger/chain.py, apps/audit/chain.py), each describing its tables in a HashChain.

Rows are written without hashes; a sealer (a beat task) later chains every committed row that has
no seal yet, in id order, into seal rows. It selects "rows without a seal" rather than "rows above
the last sealed id", so a row whose transaction committed late (a lower id becoming visible after
a higher one was sealed) is sealed on the next run instead of being skipped; the chain's order is
the seal sequence. A link's hash is SHA-256 over `prev_hash|sequence|payload`, where the payload
is the row's columns as PostgreSQL writes them (`concat_ws('|', ...)` of HashChain.payload): the
sealer reads that text from PostgreSQL and verification recomputes it there, so both agree on the
text form of every type, JSON included. Signed checkpoints over each chain: ledgerx/chain_checkpoints.py.
"""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from .db import json_rows

GENESIS_HASH = "0" * 64
SEAL_BATCH_SIZE = 5000
# A row older than this without a seal means the sealer is not running (or a seal was removed).
UNSEALED_PROBLEM_AFTER = timedelta(minutes=5)
# How many links one statement recomputes: one progress line each.
CHECK_RANGE = 100_000


@dataclass(frozen=True)
class HashChain:
    rows: str  # the chained table; SQL below names its rows `r`
    key: str  # SQL over `r`: the organization whose chain a row is in
    payload: str  # SQL over `r`: the columns a link's hash covers, comma-separated, `r.id` first
    created: str  # SQL over `r`: when the row was written
    seals: str  # (organization_id, sequence, <link>, prev_hash, hash, sealed_at)
    link: str  # the seal's column naming its row
    checkpoints: str  # (organization_id, sequence, head_hash, entry_count, created_at, previous_signature, signature)
    # pg_advisory_xact_lock(int, int) namespace of the chain's sealers, apart from the single bigint keys.
    lock_namespace: int
    noun: str  # "entry": what problems call a row
    nouns: str
    # Prefixed to what a checkpoint signs, so one chain's checkpoint is no other's ("" for the
    # ledger, whose checkpoints were signed before there was a second chain).
    signature_domain: str
    # Where `rows` and `seals` are views that also read archived rows (the ledger's partitions,
    # docs/architecture.md): the live tables, where every unsealed row is and the sealer writes. "": the same.
    live_rows: str = ""
    live_seals: str = ""

    @property
    def unsealed_rows(self) -> str:
        """SQL naming `r` the rows that have no seal yet."""
        rows, seals = self.live_rows or self.rows, self.live_seals or self.seals
        return f"{rows} r WHERE NOT EXISTS (SELECT FROM {seals} s WHERE s.{self.link} = r.id)"


def link_hash(*, prev_hash: str, sequence: int, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{sequence}|{payload}".encode()).hexdigest()


@transaction.atomic
def chain_seal(chain: HashChain, *, organization_id: uuid.UUID, batch_size: int = SEAL_BATCH_SIZE) -> int:
    """Chain up to `batch_size` of the organization's unsealed committed rows, oldest id first.

    Returns how many were sealed. Sealers of one organization take turns on an advisory lock;
    under READ COMMITTED each statement after the lock sees the previous sealer's seals. The batch
    that finds no more to seal signs the new head in the same transaction (one checkpoint per run).
    """
    from .chain_checkpoints import checkpoint_write

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [chain.lock_namespace, organization_id.int & 0x7FFFFFFF])
        cursor.execute(
            f"SELECT sequence, hash FROM {chain.seals} WHERE organization_id = %s ORDER BY sequence DESC LIMIT 1",
            [organization_id],
        )
        sequence, prev_hash = cursor.fetchone() or (0, GENESIS_HASH)
        cursor.execute(
            f"""
            SELECT r.id, concat_ws('|', {chain.payload}) FROM {chain.unsealed_rows} AND {chain.key} = %s
            ORDER BY r.id LIMIT %s
            """,
            [organization_id, batch_size],
        )
        unsealed = cursor.fetchall()
        seals = []
        for row_id, payload in unsealed:
            sequence += 1
            link = {"sequence": sequence, "row": row_id, "prev_hash": prev_hash}
            prev_hash = link["hash"] = link_hash(prev_hash=prev_hash, sequence=sequence, payload=payload)
            seals.append(link)
        if seals:
            cursor.execute(
                f"""
                INSERT INTO {chain.live_seals or chain.seals}
                    (organization_id, sequence, {chain.link}, prev_hash, hash, sealed_at)
                SELECT %s, v.sequence, v.row, v.prev_hash, v.hash, %s
                FROM json_to_recordset(%s::json) AS v(sequence bigint, row bigint, prev_hash text, hash text)
                """,
                [organization_id, timezone.now(), json_rows(seals)],
            )
    if len(seals) < batch_size:
        checkpoint_write(chain, organization_id=organization_id, sequence=sequence, head_hash=prev_hash)
    return len(seals)


def chain_seal_all(chain: HashChain) -> int:
    """Seal every organization's unsealed rows. Returns how many rows were sealed."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {chain.key} FROM {chain.unsealed_rows}")
        organization_ids = [organization_id for (organization_id,) in cursor.fetchall()]
    sealed = 0
    for organization_id in organization_ids:
        while True:
            count = chain_seal(chain, organization_id=organization_id)
            sealed += count
            if count < SEAL_BATCH_SIZE:
                break
    return sealed


# The links of one organization in (after, upto] that are not what they should be, in chain order:
# a gap in the sequence, a prev_hash that is not the stored hash of the link before it, or a hash the
# row's current columns no longer give; plus the range's last link, where the next range resumes.
# Set-based (each link carries its own prev_hash), so PostgreSQL checks a range in one pass.
_LINKS_SQL = """
WITH links AS (
    SELECT s.sequence, s.prev_hash, s.hash, r.id AS row_id, {key} AS row_organization_id,
           lag(s.sequence, 1, %(after)s::bigint) OVER chain AS previous_sequence,
           lag(s.hash, 1, %(after_hash)s::varchar) OVER chain AS previous_hash,
           encode(sha256(convert_to(concat_ws('|', s.prev_hash, s.sequence, {payload}), 'UTF8')), 'hex') AS recomputed,
           s.sequence = max(s.sequence) OVER () AS last_in_range
    FROM {seals} s JOIN {rows} r ON r.id = s.{link}
    WHERE s.organization_id = %(organization)s AND s.sequence > %(after)s AND s.sequence <= %(upto)s
    WINDOW chain AS (ORDER BY s.sequence)
)
SELECT sequence, hash, row_id, previous_sequence,
       sequence <> previous_sequence + 1 AS gap,
       prev_hash <> previous_hash AS unlinked,
       hash <> recomputed OR row_organization_id <> %(organization)s AS changed,
       last_in_range
FROM links
WHERE sequence <> previous_sequence + 1 OR prev_hash <> previous_hash
   OR hash <> recomputed OR row_organization_id <> %(organization)s OR last_in_range
ORDER BY sequence
"""


def chain_links_check(
    chain: HashChain,
    *,
    organization_id: uuid.UUID,
    label: str,
    resume_after: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[str], int]:
    """Recompute the organization's chain after link `resume_after`. Returns problems naming each
    row, and how many links were checked.

    Each link is checked twice: its `prev_hash` must be the stored hash of the link before it, and
    its `hash` must be what the row's current columns give; a changed row fails the second.
    Resuming after link N trusts the links up to N and checks N+1 against its own prev_hash.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(sequence) FROM {chain.seals} WHERE organization_id = %s", [organization_id])
        (last,) = cursor.fetchone()
        after, after_hash = resume_after, GENESIS_HASH
        if resume_after:
            cursor.execute(
                f"SELECT prev_hash FROM {chain.seals} WHERE organization_id = %s AND sequence = %s",
                [organization_id, resume_after + 1],
            )
            row = cursor.fetchone()
            after_hash = row[0] if row else GENESIS_HASH
    sql = _LINKS_SQL.format(key=chain.key, payload=chain.payload, seals=chain.seals, rows=chain.rows, link=chain.link)
    problems: list[str] = []
    checked = 0
    noun = chain.noun.capitalize()
    for lower in range(resume_after, last or 0, CHECK_RANGE):
        upper = min(lower + CHECK_RANGE, last)
        with connection.cursor() as cursor:
            cursor.execute(
                sql, {"organization": organization_id, "after": after, "after_hash": after_hash, "upto": upper}
            )
            rows = cursor.fetchall()
        for sequence, hash_, row_id, previous_sequence, gap, unlinked, changed, last_in_range in rows:
            if gap:
                problems.append(
                    f"Hash chain of {label} jumps from link {previous_sequence} to {sequence} "
                    f"at {chain.noun} {row_id}: links are missing."
                )
            if unlinked:
                problems.append(f"{noun} {row_id}: its seal does not follow the link before it (sequence {sequence}).")
            if changed:
                problems.append(
                    f"{noun} {row_id} was changed after it was sealed: it no longer matches its hash "
                    f"(sequence {sequence})."
                )
            if last_in_range:
                after, after_hash = sequence, hash_
        checked += upper - lower
        if progress:
            progress(f"{label}: chain links {lower + 1}-{upper} of {last} recomputed")
    return problems, checked


def unsealed_check(chain: HashChain, *, organization_id: uuid.UUID | None = None) -> tuple[list[str], list[str]]:
    """Rows the sealer has not reached: a problem once older than UNSEALED_PROBLEM_AFTER."""
    scope = "" if organization_id is None else f"AND {chain.key} = %(organization)s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FILTER (WHERE late), count(*) FILTER (WHERE NOT late), min(id) FILTER (WHERE late)
            FROM (
                SELECT r.id, {chain.created} < %(late)s AS late FROM {chain.unsealed_rows} {scope}
            ) unsealed
            """,
            {"late": timezone.now() - UNSEALED_PROBLEM_AFTER, "organization": organization_id},
        )
        late, waiting, first = cursor.fetchone()
    problems: list[str] = []
    notices: list[str] = []
    if late:
        problems.append(
            f"{late} {chain.nouns} older than {UNSEALED_PROBLEM_AFTER} are not sealed (first: {chain.noun} {first})."
        )
    if waiting:
        notices.append(f"{waiting} recent {chain.nouns} are waiting for the sealer.")
    return problems, notices
