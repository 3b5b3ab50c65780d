"""The per-organization hash chain over ledger entries (architecture.md: tampering below the
application is detectable by `verify_ledger`).

Entries are written on the payment path without hashes; the sealer (a beat task) later chains
every committed entry that has no seal yet, in id order, into EntrySeal rows. It selects
"entries without a seal" rather than "entries above the last sealed id", so an entry whose
transaction committed late (a lower id becoming visible after a higher one was sealed) is
sealed on the next run instead of being skipped; the chain's order is the seal sequence.
"""

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from .checkpoints import checkpoint_write
from .models import Entry, EntrySeal

GENESIS_HASH = "0" * 64
SEAL_BATCH_SIZE = 5000
# An entry older than this without a seal means the sealer is not running (or a seal was removed).
UNSEALED_PROBLEM_AFTER = timedelta(minutes=5)
# pg_advisory_xact_lock(int, int) keys live apart from the settlement lock's single bigint keys.
SEAL_LOCK_NAMESPACE = 0x5EA1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The links of one organization in (after, upto] that are not what they should be, in chain order:
# a gap in the sequence, a prev_hash that is not the stored hash of the link before it, or a hash the
# entry's current columns no longer give; plus the range's last link, where the next range resumes.
# Set-based (each link carries its own prev_hash), so PostgreSQL checks a range in one pass.
LINKS_SQL = """
WITH links AS (
    SELECT s.sequence, s.prev_hash, s.hash, e.id AS entry_id, e.organization_id AS entry_organization_id,
           lag(s.sequence, 1, %(after)s::bigint) OVER chain AS previous_sequence,
           lag(s.hash, 1, %(after_hash)s::varchar) OVER chain AS previous_hash,
           encode(sha256(convert_to(concat_ws('|',
               s.prev_hash, s.sequence, e.id, e.organization_id, e.transaction_id, e.account_id,
               e.amount_minor, e.currency, (extract(epoch FROM e.created_at) * 1000000)::bigint
           ), 'UTF8')), 'hex') AS recomputed,
           s.sequence = max(s.sequence) OVER () AS last_in_range
    FROM ledger_entryseal s JOIN ledger_entry e ON e.id = s.entry_id
    WHERE s.organization_id = %(organization)s AND s.sequence > %(after)s AND s.sequence <= %(upto)s
    WINDOW chain AS (ORDER BY s.sequence)
)
SELECT sequence, hash, entry_id, previous_sequence,
       sequence <> previous_sequence + 1 AS gap,
       prev_hash <> previous_hash AS unlinked,
       hash <> recomputed OR entry_organization_id <> %(organization)s AS changed,
       last_in_range
FROM links
WHERE sequence <> previous_sequence + 1 OR prev_hash <> previous_hash
   OR hash <> recomputed OR entry_organization_id <> %(organization)s OR last_in_range
ORDER BY sequence
"""
# How many links one statement recomputes: one progress line each.
CHECK_RANGE = 100_000


def entry_hash(
    *,
    prev_hash: str,
    sequence: int,
    entry_id: int,
    organization_id: uuid.UUID,
    transaction_id: uuid.UUID,
    account_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    created_at: datetime,
) -> str:
    """SHA-256 over the previous link and every column of the entry, in a fixed text form.

    The form is one PostgreSQL writes the same way (CHAIN_SQL below): `|`-joined decimal integers,
    lower-case hyphenated UUIDs, and the time as whole microseconds since the Unix epoch.
    """
    payload = "|".join(
        [
            prev_hash,
            str(sequence),
            str(entry_id),
            str(organization_id),
            str(transaction_id),
            str(account_id),
            str(amount_minor),
            currency,
            str((created_at - EPOCH) // timedelta(microseconds=1)),
        ]
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def link_hash(entry: Entry, *, prev_hash: str, sequence: int) -> str:
    """The hash of `entry` as link `sequence` of its chain, after `prev_hash`."""
    return entry_hash(
        prev_hash=prev_hash,
        sequence=sequence,
        entry_id=entry.id,
        organization_id=entry.organization_id,
        transaction_id=entry.transaction_id,
        account_id=entry.account_id,
        amount_minor=entry.amount_minor,
        currency=entry.currency,
        created_at=entry.created_at,
    )


@transaction.atomic
def entries_seal(*, organization_id: uuid.UUID, batch_size: int = SEAL_BATCH_SIZE) -> int:
    """Chain up to `batch_size` of the organization's unsealed committed entries, oldest id first.

    Returns how many were sealed. Sealers of one organization take turns on an advisory lock;
    under READ COMMITTED each statement after the lock sees the previous sealer's seals. The batch
    that finds no more to seal signs the new head in the same transaction (one checkpoint per run).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SEAL_LOCK_NAMESPACE, organization_id.int & 0x7FFFFFFF])
    last = EntrySeal.objects.filter(organization_id=organization_id).order_by("-sequence").first()
    sequence, prev_hash = (last.sequence, last.hash) if last else (0, GENESIS_HASH)
    unsealed = Entry.objects.filter(organization_id=organization_id, seal__isnull=True).order_by("id")[:batch_size]
    now = timezone.now()
    seals = []
    for entry in unsealed:
        sequence += 1
        prev_hash_of_entry = prev_hash
        prev_hash = link_hash(entry, prev_hash=prev_hash_of_entry, sequence=sequence)
        seals.append(
            EntrySeal(
                organization_id=organization_id,
                sequence=sequence,
                entry=entry,
                prev_hash=prev_hash_of_entry,
                hash=prev_hash,
                sealed_at=now,
            )
        )
    EntrySeal.objects.bulk_create(seals)
    if len(seals) < batch_size:
        checkpoint_write(organization_id=organization_id, sequence=sequence, head_hash=prev_hash)
    return len(seals)


def ledger_seal_all() -> int:
    """Seal every organization's unsealed entries. Returns how many entries were sealed."""
    # order_by() drops Entry's default ordering, which would make DISTINCT run over (organization, id).
    organization_ids = list(
        Entry.objects.filter(seal__isnull=True).order_by().values_list("organization_id", flat=True).distinct()
    )
    sealed = 0
    for organization_id in organization_ids:
        while True:
            count = entries_seal(organization_id=organization_id)
            sealed += count
            if count < SEAL_BATCH_SIZE:
                break
    return sealed


def chain_links_check(
    *,
    organization_id: uuid.UUID,
    label: str,
    resume_after: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[str], int]:
    """Recompute the organization's chain after link `resume_after`. Returns problems naming each
    entry, and how many links were checked.

    Each link is checked twice: its `prev_hash` must be the stored hash of the link before it, and
    its `hash` must be what the entry's current columns give; a changed entry fails the second.
    Resuming after link N trusts the links up to N and checks N+1 against its own prev_hash.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(sequence) FROM ledger_entryseal WHERE organization_id = %s", [organization_id])
        (last,) = cursor.fetchone()
        after, after_hash = resume_after, GENESIS_HASH
        if resume_after:
            cursor.execute(
                "SELECT prev_hash FROM ledger_entryseal WHERE organization_id = %s AND sequence = %s",
                [organization_id, resume_after + 1],
            )
            row = cursor.fetchone()
            after_hash = row[0] if row else GENESIS_HASH
    problems: list[str] = []
    checked = 0
    for lower in range(resume_after, last or 0, CHECK_RANGE):
        upper = min(lower + CHECK_RANGE, last)
        with connection.cursor() as cursor:
            cursor.execute(
                LINKS_SQL,
                {"organization": organization_id, "after": after, "after_hash": after_hash, "upto": upper},
            )
            rows = cursor.fetchall()
        for sequence, link_hash, entry_id, previous_sequence, gap, unlinked, changed, last_in_range in rows:
            if gap:
                problems.append(
                    f"Hash chain of {label} jumps from link {previous_sequence} to {sequence} "
                    f"at entry {entry_id}: links are missing."
                )
            if unlinked:
                problems.append(f"Entry {entry_id}: its seal does not follow the link before it (sequence {sequence}).")
            if changed:
                problems.append(
                    f"Entry {entry_id} was changed after it was sealed: it no longer matches its hash "
                    f"(sequence {sequence})."
                )
            if last_in_range:
                after, after_hash = sequence, link_hash
        checked += upper - lower
        if progress:
            progress(f"{label}: chain links {lower + 1}-{upper} of {last} recomputed")
    return problems, checked


def unsealed_check(*, organization_id: uuid.UUID | None = None) -> tuple[list[str], list[str]]:
    """Entries the sealer has not reached: a problem once older than UNSEALED_PROBLEM_AFTER."""
    unsealed = Entry.objects.filter(seal__isnull=True)
    if organization_id is not None:
        unsealed = unsealed.filter(organization_id=organization_id)
    late = Q(created_at__lt=timezone.now() - UNSEALED_PROBLEM_AFTER)
    counts = unsealed.aggregate(
        late=Count("id", filter=late), waiting=Count("id", filter=~late), first=Min("id", filter=late)
    )
    problems: list[str] = []
    notices: list[str] = []
    if counts["late"]:
        problems.append(
            f"{counts['late']} entries older than {UNSEALED_PROBLEM_AFTER} are not sealed "
            f"(first: entry {counts['first']})."
        )
    if counts["waiting"]:
        notices.append(f"{counts['waiting']} recent entries are waiting for the sealer.")
    return problems, notices
