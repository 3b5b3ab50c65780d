"""The drain: what a woken settlement worker does, and the sweeper that makes a lost wake-up harmless."""

import time
import uuid

from django.conf import settings
from django.utils import timezone

from apps.ledger.models import Transaction

from . import wakeups
from .drain_lease import organization_drain_lease
from .settlement import settlement_run
from .wakeups import settlement_request, wakeup_queued


def settlement_drain(*, organization_id: uuid.UUID) -> int:
    """What a woken worker does: settle the organization's pending spends, batch after batch.

    One drain per organization at a time (its drain lease). A task that finds another draining
    leaves the wake-up queued, and the drain consumes it at a later look or, once it has released
    the lease, sees it and drains again: a queued wake-up always has a drain that will consume it.
    A full batch hands over to a new task, queued after the lease is released so that it can take
    it, with the wake-up set again. Returns how many spends were settled.
    """
    settled = 0
    while True:
        with organization_drain_lease(organization_id) as leased:
            if not leased:
                return settled
            settled_now, handed_over = _drain_leased(organization_id)
            settled += settled_now
        if handed_over:
            settlement_request(organization_id=organization_id, deduplicate=False)
            return settled
        if not wakeup_queued(organization_id):
            return settled


def _drain_leased(organization_id: uuid.UUID) -> tuple[int, bool]:
    """Settle batches until none is pending, then keep looking for WAKEUP_LINGER_SECONDS after each consumed wake-up.

    Web processes skip waking a worker for a spend accepted within WAKEUP_MEMO_SECONDS of seeing a
    wake-up queued: the lingering looks settle those spends (and, under steady traffic, settle
    without waiting for a queue message). A full batch hands over to a new task, so other
    organizations get a turn. Returns how many spends were settled and whether a full batch left more.
    """
    settled = 0
    look_until = float("-inf")
    while True:
        started = time.monotonic()
        result = settlement_run(organization_id=organization_id)
        settled += result.settled
        if result.woken:
            look_until = time.monotonic() + wakeups.WAKEUP_LINGER_SECONDS
        if result.more_pending:
            return settled, True
        now = time.monotonic()
        if now >= look_until:
            return settled, False
        # None starts after look_until, so a spend the memo skipped is still looked for.
        time.sleep(max(0.0, min(started + lingering_look_interval(now - started), look_until) - now))


def lingering_look_interval(look_seconds: float) -> float:
    """How long after a lingering look started the next one starts, given how long it took."""
    interval = max(wakeups.WAKEUP_POLL_SECONDS, wakeups.WAKEUP_POLL_BUSY_FACTOR * look_seconds)
    return min(interval, wakeups.WAKEUP_POLL_MAX_SECONDS)


def settlement_sweep() -> int:
    """Queue settlement for every organization with a spend pending longer than it should be.

    This is what makes a lost queue message or a killed worker harmless.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SETTLEMENT_SWEEP_AFTER_SECONDS)
    organization_ids = list(
        Transaction.objects.filter(status=Transaction.Status.PENDING, created_at__lt=cutoff)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in organization_ids:
        settlement_request(organization_id=organization_id, deduplicate=False)
    return len(organization_ids)
