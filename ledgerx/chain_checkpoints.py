"""Signed checkpoints of each organization's hash chain (ledgerx/hash_chain.py), and checking them.

The chain alone proves only that its links agree with each other: someone who can write the
database can change a row and recompute every hash after it, or delete the last links, and the
chain still agrees. A checkpoint records the head (last link, its hash, how many links) under an
HMAC whose key lives outside the database (settings.LEDGER_CHECKPOINT_KEY), and chains to the
checkpoint before it through `previous_signature`. The sealer writes one whenever it has sealed
new links, in the same transaction as its last batch.
"""

import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .hash_chain import HashChain, chain_links_check, unsealed_check

# What the first checkpoint of an organization names as the signature before it.
NO_PREVIOUS_SIGNATURE = "0" * 64

# A sealed link older than this that no checkpoint covers means checkpoints were removed (or the
# sealer died between its batches and has had nothing to seal since).
UNCOVERED_PROBLEM_AFTER = timedelta(minutes=5)


def checkpoint_signature(
    chain: HashChain,
    *,
    organization_id: uuid.UUID,
    sequence: int,
    head_hash: str,
    entry_count: int,
    created_at: datetime,
    previous_signature: str,
) -> str:
    message = chain.signature_domain + "|".join(
        [
            str(organization_id),
            str(sequence),
            head_hash,
            str(entry_count),
            str((created_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)),
            previous_signature,
        ]
    )
    return hmac.new(settings.LEDGER_CHECKPOINT_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def checkpoint_write(chain: HashChain, *, organization_id: uuid.UUID, sequence: int, head_hash: str) -> bool:
    """Sign the chain up to link `sequence` unless the latest checkpoint already covers it.

    The caller holds the organization's seal lock, so links 1..sequence are all there: the count
    of links is the sequence (verify counts the links really there against it). Returns whether it signed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sequence, signature FROM {chain.checkpoints} WHERE organization_id = %s"
            " ORDER BY sequence DESC LIMIT 1",
            [organization_id],
        )
        last_sequence, previous_signature = cursor.fetchone() or (0, NO_PREVIOUS_SIGNATURE)
        if sequence <= last_sequence:
            return False
        created_at = timezone.now()
        signature = checkpoint_signature(
            chain,
            organization_id=organization_id,
            sequence=sequence,
            head_hash=head_hash,
            entry_count=sequence,
            created_at=created_at,
            previous_signature=previous_signature,
        )
        cursor.execute(
            f"INSERT INTO {chain.checkpoints}"
            " (organization_id, sequence, head_hash, entry_count, created_at, previous_signature, signature)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [organization_id, sequence, head_hash, sequence, created_at, previous_signature, signature],
        )
    return True


# Each checkpoint with the stored hash of the link it covers and how many links lie between it
# and the checkpoint before it (an index-only range count: the ranges add up to one pass).
_CHECKPOINTS_SQL = """
WITH checkpoints AS (
    SELECT c.*, lag(c.sequence, 1, 0::bigint) OVER (ORDER BY c.sequence) AS previous_sequence
    FROM {checkpoints} c WHERE c.organization_id = %(organization)s
)
SELECT c.id, c.sequence, c.head_hash, c.entry_count, c.created_at, c.previous_signature, c.signature,
       s.hash,
       (SELECT count(*) FROM {seals} r
        WHERE r.organization_id = c.organization_id AND r.sequence > c.previous_sequence AND r.sequence <= c.sequence)
FROM checkpoints c
LEFT JOIN {seals} s ON s.organization_id = c.organization_id AND s.sequence = c.sequence
ORDER BY c.sequence
"""


@dataclass
class CheckpointReport:
    problems: list[str]
    checked: int
    # The latest checkpoint whose signature, place in the checkpoint chain, head and count all
    # hold: where an incremental run resumes checking the chain (0 when there is none).
    good_sequence: int


def checkpoints_check(chain: HashChain, *, organization_id: uuid.UUID, label: str) -> CheckpointReport:
    """Check every checkpoint of the organization against its signature, its predecessor and the chain.

    A head that equals the stored hash of its link equals the recomputed chain there too whenever
    the link check (hash_chain.py) finds nothing: together they say the chain is still the one signed.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _CHECKPOINTS_SQL.format(checkpoints=chain.checkpoints, seals=chain.seals), {"organization": organization_id}
        )
        rows = cursor.fetchall()
    problems: list[str] = []
    previous_signature, links, good_sequence = NO_PREVIOUS_SIGNATURE, 0, 0
    for _, sequence, head, entry_count, created_at, previous, signature, stored_hash, links_in_range in rows:
        links += links_in_range
        where = f"Checkpoint at link {sequence} of {label} (signed {created_at:%Y-%m-%d %H:%M:%S})"
        signed = hmac.compare_digest(
            signature,
            checkpoint_signature(
                chain,
                organization_id=organization_id,
                sequence=sequence,
                head_hash=head,
                entry_count=entry_count,
                created_at=created_at,
                previous_signature=previous,
            ),
        )
        follows = previous == previous_signature
        previous_signature = signature
        if not signed:
            problems.append(f"{where} does not match its signature: it was rewritten or forged.")
            continue
        if not follows:
            problems.append(f"{where} does not follow the checkpoint before it: a checkpoint was removed or added.")
        if stored_hash is None:
            problems.append(f"{where} covers a link that no longer exists: sealed {chain.nouns} were deleted.")
        elif stored_hash != head:
            problems.append(
                f"{where} signed a different chain: link {sequence} was re-hashed after it was checkpointed."
            )
        if links != entry_count:
            problems.append(f"{where} counted {entry_count} links, the chain has {links} up to it: links were deleted.")
        if follows and stored_hash == head and links == entry_count:
            good_sequence = sequence

    covered = rows[-1][1] if rows else 0
    problems += _uncovered_links(chain, organization_id=organization_id, label=label, covered=covered)
    return CheckpointReport(problems=problems, checked=len(rows), good_sequence=good_sequence)


def _uncovered_links(chain: HashChain, *, organization_id: uuid.UUID, label: str, covered: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(sequence), max(sequence) FROM {chain.seals}"
            " WHERE organization_id = %s AND sequence > %s AND sealed_at < %s",
            [organization_id, covered, timezone.now() - UNCOVERED_PROBLEM_AFTER],
        )
        first, last = cursor.fetchone()
    if first is None:
        return []
    return [
        f"Links {first} to {last} of {label}, sealed more than {UNCOVERED_PROBLEM_AFTER} ago, are covered by no "
        "checkpoint: checkpoints were deleted, or the sealer stopped before writing one."
    ]


@dataclass
class ChainReport:
    problems: list[str]
    notices: list[str]
    checkpoints: int
    links_recomputed: int


def chain_verify(
    chain: HashChain,
    *,
    chains: list[tuple[uuid.UUID, str]],
    scope: uuid.UUID | None,
    incremental: bool,
    report: Callable[[str], None],
) -> ChainReport:
    """Check the checkpoints and recompute the links of each (organization id, label) in `chains`,
    then count the rows without a seal (of organization `scope`, or of all).

    `incremental` recomputes each chain only after its latest checkpoint that still holds.
    """
    problems: list[str] = []
    checkpoints = recomputed = 0
    for organization_id, label in chains:
        checkpoint_report = checkpoints_check(chain, organization_id=organization_id, label=label)
        problems += checkpoint_report.problems
        checkpoints += checkpoint_report.checked
        resume_after = max(checkpoint_report.good_sequence - 1, 0) if incremental else 0
        report(f"{label}: {checkpoint_report.checked} checkpoints checked; chain from link {resume_after + 1}")
        link_problems, links = chain_links_check(
            chain, organization_id=organization_id, label=label, resume_after=resume_after, progress=report
        )
        problems += link_problems
        recomputed += links
    unsealed_problems, notices = unsealed_check(chain, organization_id=scope)
    report(f"{chain.nouns} without a seal counted")
    return ChainReport(problems + unsealed_problems, notices, checkpoints, recomputed)
