"""Signed checkpoints of each organization's hash chain, and checking them.

The chain alone proves only that its links agree with each other: someone who can write the
database can change an entry and recompute every hash after it, or delete the last links, and the
chain still agrees. A checkpoint records the head (last link, its hash, how many links) under an
HMAC whose key lives outside the database (settings.LEDGER_CHECKPOINT_KEY), and chains to the
checkpoint before it through `previous_signature`. The sealer writes one whenever it has sealed
new links, in the same transaction as its last batch.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import ChainCheckpoint

# What the first checkpoint of an organization names as the signature before it.
NO_PREVIOUS_SIGNATURE = "0" * 64

# A sealed link older than this that no checkpoint covers means checkpoints were removed (or the
# sealer died between its batches and has had nothing to seal since).
UNCOVERED_PROBLEM_AFTER = timedelta(minutes=5)


def checkpoint_signature(
    *,
    organization_id: uuid.UUID,
    sequence: int,
    head_hash: str,
    entry_count: int,
    created_at: datetime,
    previous_signature: str,
) -> str:
    message = "|".join(
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


def checkpoint_write(*, organization_id: uuid.UUID, sequence: int, head_hash: str) -> ChainCheckpoint | None:
    """Sign the chain up to link `sequence` unless the latest checkpoint already covers it.

    The caller holds the organization's seal lock, so links 1..sequence are all there: the count
    of links is the sequence (verify counts the links really there against it).
    """
    last = ChainCheckpoint.objects.filter(organization_id=organization_id).order_by("-sequence").first()
    if sequence == 0 or (last is not None and last.sequence >= sequence):
        return None
    checkpoint = ChainCheckpoint(
        organization_id=organization_id,
        sequence=sequence,
        head_hash=head_hash,
        entry_count=sequence,
        created_at=timezone.now(),
        previous_signature=last.signature if last else NO_PREVIOUS_SIGNATURE,
    )
    checkpoint.signature = _signature_of(checkpoint)
    checkpoint.save(force_insert=True)
    return checkpoint


def _signature_of(checkpoint: ChainCheckpoint) -> str:
    return checkpoint_signature(
        organization_id=checkpoint.organization_id,
        sequence=checkpoint.sequence,
        head_hash=checkpoint.head_hash,
        entry_count=checkpoint.entry_count,
        created_at=checkpoint.created_at,
        previous_signature=checkpoint.previous_signature,
    )


# Each checkpoint with the stored hash of the link it covers and how many links lie between it
# and the checkpoint before it (an index-only range count: the ranges add up to one pass).
CHECKPOINTS_SQL = """
WITH checkpoints AS (
    SELECT c.*, lag(c.sequence, 1, 0::bigint) OVER (ORDER BY c.sequence) AS previous_sequence
    FROM ledger_chaincheckpoint c WHERE c.organization_id = %(organization)s
)
SELECT c.id, c.sequence, c.head_hash, c.entry_count, c.created_at, c.previous_signature, c.signature,
       s.hash,
       (SELECT count(*) FROM ledger_entryseal r
        WHERE r.organization_id = c.organization_id AND r.sequence > c.previous_sequence AND r.sequence <= c.sequence)
FROM checkpoints c
LEFT JOIN ledger_entryseal s ON s.organization_id = c.organization_id AND s.sequence = c.sequence
ORDER BY c.sequence
"""


@dataclass
class CheckpointReport:
    problems: list[str]
    checked: int
    # The latest checkpoint whose signature, place in the checkpoint chain, head and count all
    # hold: where an incremental run resumes checking the chain (0 when there is none).
    good_sequence: int


def checkpoints_check(*, organization_id: uuid.UUID, label: str) -> CheckpointReport:
    """Check every checkpoint of the organization against its signature, its predecessor and the chain.

    A head that equals the stored hash of its link equals the recomputed chain there too whenever
    the link check (chain.py) finds nothing: together they say the chain is still the one signed.
    """
    with connection.cursor() as cursor:
        cursor.execute(CHECKPOINTS_SQL, {"organization": organization_id})
        rows = cursor.fetchall()
    problems: list[str] = []
    previous_signature, links, good_sequence = NO_PREVIOUS_SIGNATURE, 0, 0
    for _, sequence, head, entry_count, created_at, previous, signature, stored_hash, links_in_range in rows:
        links += links_in_range
        where = f"Checkpoint at link {sequence} of {label} (signed {created_at:%Y-%m-%d %H:%M:%S})"
        signed = hmac.compare_digest(
            signature,
            checkpoint_signature(
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
            problems.append(f"{where} covers a link that no longer exists: sealed entries were deleted.")
        elif stored_hash != head:
            problems.append(
                f"{where} signed a different chain: link {sequence} was re-hashed after it was checkpointed."
            )
        if links != entry_count:
            problems.append(f"{where} counted {entry_count} links, the chain has {links} up to it: links were deleted.")
        if follows and stored_hash == head and links == entry_count:
            good_sequence = sequence

    problems += _uncovered_links(organization_id=organization_id, label=label, covered=rows[-1][1] if rows else 0)
    return CheckpointReport(problems=problems, checked=len(rows), good_sequence=good_sequence)


def _uncovered_links(*, organization_id: uuid.UUID, label: str, covered: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(sequence), max(sequence) FROM ledger_entryseal"
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
