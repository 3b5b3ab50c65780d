"""The running balance of every account: checkpoints written off the payment path by a beat task
(tasks.write_balance_checkpoints) and `manage.py balance_checkpoints`, read by balances.py.

Entries are dated by settlement's `now`, taken before their INSERT, and commit later still; their ids
come from a sequence at INSERT. So neither a date nor an id alone says which entries a checkpoint
has seen. A checkpoint therefore covers the entries with `id <= upto_entry_id` AND
`created_at <= cut_at`, where:

- `upto_entry_id` is an id below which every id is final. The writer reads the id sequence, then
  waits until every transaction that held ledger_entry's ROW EXCLUSIVE lock at that moment has
  ended (an INSERT takes that lock before it draws an id, and keeps it until it commits or rolls
  back). It waits without taking any lock that settlement could queue behind.
- `cut_at` is CUT_MARGIN behind the clock, so that an entry dated before it has almost always
  committed already. Almost: an entry dated before the cut that gets its id after `upto_entry_id`
  is not covered, and is not lost either. The account's next checkpoint counts it (it covers every
  id up to its own bound) and notes in `late_since` that it found an entry dated at or before the
  previous cut; a balance read between the two adds such entries back (balances.py).

Every id up to a checkpoint's bound is final when it is written, so what it covers never changes,
and verify_ledger can recompute it from the entries (balance_verification.py). Each checkpoint is
the account's previous one plus the entries it adds, found through two index ranges: by date
(after the previous cut, up to this one) and by id (after the previous bound, up to this one). An
account gets a checkpoint only when it has entries the previous one did not cover.
"""

import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from apps.tenancy.models import Organization

CUT_MARGIN = timedelta(minutes=1)
# How long a run waits for the writers of entries in flight before giving up until the next run.
WRITERS_WAIT = timedelta(seconds=30)
WRITERS_POLL_SECONDS = 0.05
# pg_advisory_lock key of the checkpoint writer: one run at a time, so cuts only go forward.
WRITER_LOCK = 0x5EA1_BA1A


class WritersInFlight(Exception):
    """Entry writers stayed in flight past WRITERS_WAIT: no checkpoint is written this time."""


def settled_entry_bound(*, wait: timedelta = WRITERS_WAIT) -> int:
    """An entry id such that every id up to it is final: committed, or rolled back for good."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('ledger_entry', 'id')), 0)")
        (bound,) = cursor.fetchone()
        cursor.execute(
            """
            SELECT coalesce(array_agg(DISTINCT virtualtransaction), '{}') FROM pg_locks
            WHERE locktype = 'relation' AND relation = 'ledger_entry'::regclass AND mode = 'RowExclusiveLock'
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND granted AND pid <> pg_backend_pid()
            """
        )
        (writers,) = cursor.fetchone()
        deadline = time.monotonic() + wait.total_seconds()
        while writers:
            # A transaction holds the lock on its own virtual transaction id until it ends.
            cursor.execute(
                "SELECT coalesce(array_agg(virtualxid), '{}') FROM pg_locks"
                " WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s) AND granted",
                [writers],
            )
            (writers,) = cursor.fetchone()
            if writers and time.monotonic() > deadline:
                raise WritersInFlight(f"{len(writers)} transactions writing entries are still in flight after {wait}.")
            if writers:
                time.sleep(WRITERS_POLL_SECONDS)
    return bound


# One statement per organization: each account's latest checkpoint, the entries after it (by date up to
# the cut, and by id up to the bound, dated at or before its cut: the late ones), and a new checkpoint
# where there are any. Both ranges are index-only scans (entry_account_created, entry_account_id).
_WRITE_SQL = """
INSERT INTO ledger_balancecheckpoint (organization_id, account_id, cut_at, upto_entry_id, after_cut_at,
    after_entry_id, debits_minor, credits_minor, late_since, created_at)
SELECT a.organization_id, a.id, %(cut)s, %(upto)s, previous.cut_at, coalesce(previous.upto_entry_id, 0),
       coalesce(previous.debits_minor, 0) + added.debits, coalesce(previous.credits_minor, 0) + added.credits,
       added.late_since, now()
FROM ledger_account a
LEFT JOIN LATERAL (
    SELECT c.cut_at, c.upto_entry_id, c.debits_minor, c.credits_minor FROM ledger_balancecheckpoint c
    WHERE c.account_id = a.id ORDER BY c.cut_at DESC LIMIT 1
) previous ON true
CROSS JOIN LATERAL (
    SELECT count(*) AS entries,
           coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0) AS debits,
           coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0) AS credits,
           min(created_at) FILTER (WHERE late) AS late_since
    FROM (
        SELECT e.amount_minor, e.created_at, false AS late FROM ledger_entry_history e
        WHERE e.account_id = a.id AND e.created_at > coalesce(previous.cut_at, '-infinity')
          AND e.created_at <= %(cut)s AND e.id <= %(upto)s
        UNION ALL
        SELECT e.amount_minor, e.created_at, true FROM ledger_entry_history e
        WHERE e.account_id = a.id AND e.id > previous.upto_entry_id AND e.id <= %(upto)s
          AND e.created_at <= previous.cut_at
    ) added
) added
WHERE a.organization_id = %(organization)s AND added.entries > 0
  AND (previous.cut_at IS NULL OR (previous.cut_at < %(cut)s AND previous.upto_entry_id <= %(upto)s))
"""


def balance_checkpoints_write(
    *, cut_at: datetime | None = None, organizations: list[Organization] | None = None
) -> int:
    """Checkpoint every account with entries since its last checkpoint; returns how many were written.

    `cut_at` defaults to CUT_MARGIN ago; a past instant backfills history (cuts in increasing order:
    an account whose latest checkpoint is at or after `cut_at` is left alone). Raises WritersInFlight
    when the entries in flight do not settle in time.
    """
    now = timezone.now()
    cut_at = cut_at or now - CUT_MARGIN
    if cut_at > now:
        raise ValueError("A checkpoint's cut cannot be in the future.")
    written = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
        try:
            upto = settled_entry_bound()
            for organization_id in _organization_ids(organizations):
                with transaction.atomic():
                    cursor.execute(_WRITE_SQL, {"cut": cut_at, "upto": upto, "organization": organization_id})
                    written += cursor.rowcount
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [WRITER_LOCK])
    return written


def _organization_ids(organizations: list[Organization] | None) -> list:
    if organizations is not None:
        return [organization.id for organization in organizations]
    return list(Organization.objects.order_by("id").values_list("id", flat=True))


def balance_checkpoints_backfill(*, every: timedelta, organizations: list[Organization] | None = None) -> int:
    """Checkpoints at every `every` from the first entry up to now: for a ledger that predates them, so
    that a balance at an instant in its history is as quick to find as a recent one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(created_at) FROM ledger_entry_history")
        (first,) = cursor.fetchone()
    if first is None:
        return 0
    written = 0
    cut_at = first + every
    end = timezone.now() - CUT_MARGIN
    while cut_at < end:
        written += balance_checkpoints_write(cut_at=cut_at, organizations=organizations)
        cut_at += every
    return written + balance_checkpoints_write(cut_at=end, organizations=organizations)
