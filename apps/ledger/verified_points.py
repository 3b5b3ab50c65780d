"""Verified points (models.VerifiedPoint): where `verify_ledger --incremental` resumes the checks that cover
the whole ledger (the journals, the budgets, the spend tallies).

A run that passes in a snapshot of its own records the snapshot. PostgreSQL stamps each row version with
the database transaction that wrote it (`xmin`), and an UPDATE writes a new version, so a row written since
a point shows as such whoever wrote it: the application, or someone by hand with the triggers disabled. No
statement can choose a row's xmin. The rows the run may not have seen are those written by a transaction
from its snapshot's xmin on: every one before had ended. (Within that range the snapshot lists the
transactions then running but not their subtransactions, which Django's savepoints make, so the list cannot
narrow it.) A long transaction anywhere on the server holds the xmin back: the next run then checks more,
never less. An incremental run checks again what such rows touch;
totals over whole tables catch a row deleted outright, which leaves no row to show it. A point is signed
with the checkpoint key (settings.LEDGER_CHECKPOINT_KEY, kept outside the database), so a database writer
cannot move one past a change of their own; deleting points only makes the next run check more.

Our own mechanism: PostgreSQL offers no record of the rows changed since a snapshot short of logical
decoding, which would need a replication slot kept for the verifier.
"""

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q

from apps.tenancy.models import Organization

from .models import VerifiedPoint

# A row's xmin is 32 bits and wraps; age() orders it against a point soundly while the point is less than
# 2^31 transactions back. Further back than this, a run checks everything, as without a point.
POINT_MAX_AGE = 2**30
_SIGNATURE_DOMAIN = "ledgerx-verified-point|"


@dataclass(frozen=True)
class Since:
    """The point an incremental run resumes from, as this snapshot sees it."""

    point: VerifiedPoint
    # age() of the point's xmin now: a row version whose age(xmin) is at most this was written from it on.
    xmin_age: int

    def written(self, alias: str, column: str = "xmin") -> str:
        """SQL: the row `alias` was written (inserted, or updated) by a transaction the point's run may not have
        seen; `params` are its parameters. `column` names the row's xmin where a view passes it on."""
        return f"age({alias}.{column}) <= %s"

    @property
    def params(self) -> list:
        return [self.xmin_age]


def _signature(*, organization_id: uuid.UUID | None, snapshot: str, verified_at: datetime, incremental: bool) -> str:
    message = _SIGNATURE_DOMAIN + "|".join(
        [
            str(organization_id or ""),
            snapshot,
            str((verified_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)),
            "incremental" if incremental else "full",
        ]
    )
    return hmac.new(settings.LEDGER_CHECKPOINT_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def _signed(point: VerifiedPoint) -> bool:
    expected = _signature(
        organization_id=point.organization_id,
        snapshot=point.snapshot,
        verified_at=point.verified_at,
        incremental=point.incremental,
    )
    return hmac.compare_digest(expected, point.signature)


def snapshot_current() -> str:
    """The snapshot the current transaction reads in, as text (pg_snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


def _xmin(snapshot: str) -> int:
    return int(snapshot.split(":")[0])


def _xmax(snapshot: str) -> int:
    return int(snapshot.split(":")[1])


def verified_point_since(*, organization: Organization | None, snapshot: str) -> tuple[Since | None, list[str]]:
    """The latest signed point that covers `organization` (one of its own or the whole ledger's; for the whole
    ledger, only the whole ledger's) and is recent enough to order rows against, with the problems of any
    later point whose signature does not hold."""
    covering = (
        Q(organization_id__isnull=True)
        if organization is None
        else Q(organization_id__isnull=True) | Q(organization_id=organization.id)
    )
    points = VerifiedPoint.objects.filter(
        covering, snapshot_xmax__gt=_xmin(snapshot) - POINT_MAX_AGE, snapshot_xmax__lte=_xmax(snapshot)
    ).order_by("-snapshot_xmax", "-id")
    problems: list[str] = []
    for point in points.iterator():
        if _xmin(snapshot) - _xmin(point.snapshot) >= POINT_MAX_AGE:
            continue
        if not _signed(point):
            problems.append(f"Verified point {point.id} ({point}) does not carry a valid signature: skipped.")
            continue
        with connection.cursor() as cursor:
            # The point's xmin as a 32-bit transaction id, aged in this snapshot like every row's xmin.
            cursor.execute("SELECT age((%s::bigint %% 4294967296)::text::xid)", [_xmin(point.snapshot)])
            return Since(point=point, xmin_age=cursor.fetchone()[0]), problems
    return None, problems


def verified_point_record(*, organization: Organization | None, snapshot: str, incremental: bool) -> VerifiedPoint:
    """Record that the ledger (or `organization`'s part of it) passed verification in `snapshot`. The caller's
    run read in a transaction of its own, now ended."""
    point = VerifiedPoint(
        organization_id=organization.id if organization else None,
        snapshot=snapshot,
        snapshot_xmax=_xmax(snapshot),
        incremental=incremental,
    )
    point.signature = _signature(
        organization_id=point.organization_id, snapshot=snapshot, verified_at=point.verified_at, incremental=incremental
    )
    point.save()
    return point


@dataclass(frozen=True)
class Written:
    """What was written since the point an incremental run resumes from, as the checks that cover the whole
    ledger need it."""

    since: Since
    # The transactions whose journal may read otherwise than at the point (written_since).
    transaction_ids: list[uuid.UUID]
    # Organizations with a department or their own row written since: a department moved or a timezone
    # changed regroups spends the rows written since do not name, so their budgets and tallies are checked whole.
    organization_ids: list[uuid.UUID]


def written_since(since: Since, *, scope: str, params: list[Any]) -> Written:
    """What was written since `since`, within `scope` (`AND {alias}.organization_id = %s` or empty).

    A transaction written since, or with an entry written since (in a live or an archived month: migration
    0032's view) or one on an account written since; then the reversal and the original of each, whose
    checks read both. Asked as plain statements, each with its ids as an array: the planner cannot know
    how few rows pass an age() filter, and guessing a third of the table it plans a join of millions."""
    written = since.written

    def ids(sql: str, *values: Any) -> set:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(values))
            return {row[0] for row in cursor.fetchall()}

    accounts = ids(
        f"SELECT a.id FROM ledger_account a WHERE {written('a')} {scope.format(alias='a')}", *since.params, *params
    )
    touched = ids(
        "SELECT e.transaction_id FROM ledger_entry_version e"
        f" WHERE {written('e', 'row_xmin')} {scope.format(alias='e')}",
        *since.params,
        *params,
    ) | ids("SELECT e.transaction_id FROM ledger_entry_history e WHERE e.account_id = ANY(%s)", list(accounts))
    transaction_ids = (
        ids(
            f"SELECT t.id FROM ledger_transaction t WHERE {written('t')} {scope.format(alias='t')}",
            *since.params,
            *params,
        )
        | touched
    )
    linked = ids(
        "SELECT reversal_of_id FROM ledger_transaction WHERE id = ANY(%s) AND reversal_of_id IS NOT NULL"
        " UNION SELECT id FROM ledger_transaction WHERE reversal_of_id = ANY(%s)",
        list(transaction_ids),
        list(transaction_ids),
    )
    organization_ids = ids(
        f"""
        SELECT o.id FROM (SELECT id, id AS organization_id, xmin FROM tenancy_organization) o
        WHERE {written("o")} {scope.format(alias="o")}
        UNION SELECT d.organization_id FROM tenancy_department d WHERE {written("d")} {scope.format(alias="d")}
        """,
        *since.params,
        *params,
        *since.params,
        *params,
    )
    return Written(
        since=since, transaction_ids=sorted(transaction_ids | linked), organization_ids=sorted(organization_ids)
    )
