"""Month-end close: finance closes an organization's month, after which nothing posts into it; an org
admin may reopen it, giving a reason. Both are audited, and every act is kept (models.MonthClose).

The database enforces a close (migration 0018): it refuses an entry dated into a closed month, and any
change of a closed month's budgets. Here are the rules of the acts themselves:
- a month is closed once it has ended in the organization's timezone, and only when no transaction
  counted in it (its budget month) is still pending or awaiting approval;
- months close in order: not while an earlier month with entries is open. They reopen in the reverse
  order: not while a later month is closed. So the closed months are always every month up to one.

A close records the organization's highest entry id and the month's totals then, which verify_ledger
checks the month against (closing_verification.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.tenancy.models import Organization, Role, User
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, Forbidden, InvalidInput
from ledgerx.months import month_bounds, month_text

from .models import MonthClose, Transaction

# The first key of the month-close advisory lock; its second is hashtext() of the organization's id.
# The entry trigger of migration 0018 takes the same lock shared: keep them equal.
MONTH_CLOSE_LOCK_CLASS = 23
# How many of the transactions that keep a month open a refusal names.
TRANSACTIONS_NAMED = 20


@dataclass(frozen=True)
class MonthState:
    month: date
    entry_count: int
    latest: MonthClose | None  # the month's latest act, if it has one

    @property
    def closed(self) -> bool:
        return self.latest is not None and self.latest.act == MonthClose.Act.CLOSED


def month_latest_act(*, organization: Organization, month: date) -> MonthClose | None:
    return MonthClose.objects.of(organization).filter(month=month).select_related("acted_by").order_by("-id").first()


def month_is_closed(*, organization: Organization, month: date) -> bool:
    latest = month_latest_act(organization=organization, month=month)
    return latest is not None and latest.act == MonthClose.Act.CLOSED


def months_closed(*, organization: Organization, months: list[date]) -> set[date]:
    """Which of these months are closed now."""
    latest: dict[date, str] = {}
    for month, act in (
        MonthClose.objects.of(organization).filter(month__in=months).order_by("month", "id").values_list("month", "act")
    ):
        latest[month] = act
    return {month for month, act in latest.items() if act == MonthClose.Act.CLOSED}


def months_first_closed_at(*, organization: Organization, months: list[date]) -> datetime | None:
    """When these months were first all closed, if every one of them is closed now; None otherwise."""
    if not months or set(months) - months_closed(organization=organization, months=months):
        return None
    firsts = (
        MonthClose.objects.of(organization)
        .filter(month__in=months, act=MonthClose.Act.CLOSED)
        .values("month")
        .annotate(first=Min("acted_at"))
        .values_list("first", flat=True)
    )
    return max(firsts)


def _entry_months(organization: Organization) -> dict[date, int]:
    """How many entries each month has, in the organization's timezone."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc('month', created_at AT TIME ZONE %s)::date, count(*)
            FROM ledger_entry_history WHERE organization_id = %s GROUP BY 1
            """,
            [organization.timezone, organization.id],
        )
        return dict(cursor.fetchall())


def month_list(*, organization: Organization) -> list[MonthState]:
    """Every month with entries or an act of close, oldest first, with its entry count and latest act."""
    counts = _entry_months(organization)
    latest: dict[date, MonthClose] = {}
    for act in MonthClose.objects.of(organization).select_related("acted_by").order_by("month", "id"):
        latest[act.month] = act
    return [MonthState(month, counts.get(month, 0), latest.get(month)) for month in sorted(set(counts) | set(latest))]


@contextmanager
def _month_close_lock(organization: Organization) -> Iterator[None]:
    """Held while a month of the organization closes or reopens: postings wait for it (the entry trigger
    takes it shared), and the act reads a ledger no posting is in the middle of.

    A session lock taken before the transaction starts, as the settlement lock is, so that the act's
    snapshot is newer than every posting that held the lock before it.
    """
    if connection.in_atomic_block:
        raise RuntimeError("take the month-close lock before the transaction starts")
    key = [MONTH_CLOSE_LOCK_CLASS, str(organization.id)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
        except DatabaseError:
            # The session is gone, and a session's advisory locks go with it.
            connection.close()


def _refuse_while_counted_open(organization: Organization, month: date) -> None:
    waiting = Transaction.objects.of(organization).filter(
        budget_month=month, status__in=[Transaction.Status.PENDING, Transaction.Status.AWAITING_APPROVAL]
    )
    count = waiting.count()
    if count:
        named = [f"{t.id} ({t.status})" for t in waiting.order_by("created_at", "id")[:TRANSACTIONS_NAMED]]
        raise InvalidInput(
            f"{month_text(month)} still counts {count} transactions pending or awaiting approval: "
            "settle, approve or reject them first.",
            fields={"transactions": named},
        )


def _month_totals(organization: Organization, month: date) -> tuple[int, int, int, int]:
    """The organization's highest entry id (0 for none), and the month's entry count, debits and credits."""
    start, end = month_bounds(month, organization.timezone)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT coalesce(max(id), 0) FROM ledger_entry_history WHERE organization_id = %(organization)s),
                   count(*), coalesce(sum(amount_minor) FILTER (WHERE amount_minor > 0), 0),
                   coalesce(-sum(amount_minor) FILTER (WHERE amount_minor < 0), 0)
            FROM ledger_entry_history
            WHERE organization_id = %(organization)s AND created_at >= %(start)s AND created_at < %(end)s
            """,
            {"organization": organization.id, "start": start, "end": end},
        )
        return cursor.fetchone()


def month_close(*, actor: User, month: date, now: datetime | None = None) -> MonthClose:
    """Close the actor's organization's `month` (a finance manager or an org admin), audited."""
    if actor.role not in FINANCE_ROLES:
        raise Forbidden("Only finance closes a month.")
    organization = actor.organization
    now = now or timezone.now()
    _, end = month_bounds(month, organization.timezone)
    if now < end:
        raise InvalidInput(
            f"{month_text(month)} has not ended in {organization.timezone}: a month closes once it is over.",
            fields={"month": ["Not ended yet."]},
        )

    def close() -> MonthClose:
        if month_is_closed(organization=organization, month=month):
            raise Conflict(f"{month_text(month)} is already closed.")
        counts = _entry_months(organization)
        earlier = sorted(each for each in counts if each < month)
        still_open = sorted(set(earlier) - months_closed(organization=organization, months=earlier))
        if still_open:
            raise InvalidInput(
                f"{month_text(still_open[0])} has entries and is open: months close in order.",
                fields={"month": [f"Close {', '.join(month_text(each) for each in still_open)} first."]},
            )
        _refuse_while_counted_open(organization, month)
        high_water, count, debits, credits = _month_totals(organization, month)
        act = MonthClose.objects.create(
            organization=organization,
            month=month,
            act=MonthClose.Act.CLOSED,
            acted_by=actor,
            acted_at=now,
            entry_high_water=high_water,
            entry_count=count,
            debits_minor=debits,
            credits_minor=credits,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.MONTH_CLOSED,
            target=act,
            after={"month": month_text(month), "entries": count, "debits_minor": debits, "credits_minor": credits},
        )
        return act

    with _month_close_lock(organization):
        return run_serializable(close)


def month_reopen(*, actor: User, month: date, reason: str, now: datetime | None = None) -> MonthClose:
    """Reopen the actor's organization's closed `month` (an org admin, with a reason), audited."""
    if actor.role != Role.ORG_ADMIN:
        raise Forbidden("Only an org admin reopens a closed month.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the month is reopened.", fields={"reason": ["Required."]})
    organization = actor.organization

    def reopen() -> MonthClose:
        if not month_is_closed(organization=organization, month=month):
            raise Conflict(f"{month_text(month)} is not closed.")
        later = MonthClose.objects.of(organization).filter(month__gt=month).values_list("month", flat=True).distinct()
        still_closed = sorted(months_closed(organization=organization, months=list(later)))
        if still_closed:
            raise Conflict(
                f"{month_text(still_closed[-1])} is closed after it: months reopen from the latest closed back."
            )
        act = MonthClose.objects.create(
            organization=organization,
            month=month,
            act=MonthClose.Act.REOPENED,
            acted_by=actor,
            acted_at=now or timezone.now(),
            reason=reason,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.MONTH_REOPENED,
            target=act,
            before={"month": month_text(month), "state": MonthClose.Act.CLOSED},
            after={"month": month_text(month), "state": MonthClose.Act.REOPENED, "reason": reason},
        )
        return act

    with _month_close_lock(organization):
        return run_serializable(reopen)
