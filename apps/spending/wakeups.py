"""Wake-ups: how an accepted spend gets a settlement worker, without a queue message per spend.

A wake-up is a Redis key per organization, set when a task is queued and consumed by the worker
that looks for pending spends; while it is set, further spends queue nothing (see settlement_request).
"""

import logging
import time
import uuid

from django.db import DatabaseError
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from .drain_lease import organization_drain_in_progress

logger = logging.getLogger(__name__)

# A queued wake-up that never ran (its message lost) stops suppressing new ones after this long.
WAKEUP_TTL_SECONDS = 30
# A web process that has seen a wake-up queued does not ask Redis again for this long; a worker
# that consumes a wake-up looks for pending spends until WAKEUP_LINGER_SECONDS later, so none of
# the spends accepted meanwhile is left waiting for the sweeper (see settlement_drain).
WAKEUP_MEMO_SECONDS = 0.05
WAKEUP_LINGER_SECONDS = 0.12
# While lingering, batches start at most this often: under steady traffic each gathers the spends
# of one interval instead of paying a batch's fixed cost (about 10 ms of CPU, measured) for a few.
# A slow batch (the machine loaded) stretches the interval to WAKEUP_POLL_BUSY_FACTOR times its own
# length, up to WAKEUP_POLL_MAX_SECONDS: the busier the machine, the more spends share a fixed cost.
WAKEUP_POLL_SECONDS = 0.05
WAKEUP_POLL_BUSY_FACTOR = 4
WAKEUP_POLL_MAX_SECONDS = 0.1


def _wakeup_key(organization_id: uuid.UUID) -> str:
    return f"ledgerx:settle-wakeup:{organization_id}"


_wakeup_seen_at: dict[uuid.UUID, float] = {}


def settlement_request_after_accept(*, organization_id: uuid.UUID) -> None:
    """Wake a worker for a spend just committed, unless this process saw a wake-up queued moments ago.

    The memo is safe: the wake-up seen was consumed after it was seen, and the worker that consumed
    it looks again at least WAKEUP_LINGER_SECONDS (> WAKEUP_MEMO_SECONDS) later, after this commit.
    """
    if time.monotonic() - _wakeup_seen_at.get(organization_id, float("-inf")) < WAKEUP_MEMO_SECONDS:
        return
    settlement_request(organization_id=organization_id)


def settlement_request(*, organization_id: uuid.UUID, deduplicate: bool = True) -> None:
    """Wake a settlement worker for the organization: set its wake-up and queue a task.

    While one wake-up is queued and not yet consumed, further ones are dropped (`deduplicate`): a
    worker drains everything pending when it runs, so a spike becomes a handful of tasks, not one
    per spend. Nor is a task queued while a drain is in progress: it consumes the wake-up itself,
    where a task would only find its lease taken. The sweeper and a drain handing over queue a task
    whatever the wake-up says.
    If Redis or the broker is unreachable the spends stay pending and the sweeper queues them.
    """
    from .tasks import settle_pending

    # Taken before asking: the wake-up is consumed after Redis answers, so never before this instant.
    asked_at = time.monotonic()
    try:
        queued_before = not get_redis_connection("default").set(
            _wakeup_key(organization_id), "1", nx=deduplicate, ex=WAKEUP_TTL_SECONDS
        )
        _wakeup_seen_at[organization_id] = asked_at
    except RedisError as error:
        logger.warning("could not set the settlement wake-up: %s", error)
        if deduplicate:
            return  # the sweeper queues the spends
        queued_before = False
    if queued_before or (deduplicate and _drain_in_progress(organization_id)):
        return
    try:
        settle_pending.delay(str(organization_id))
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweeper
        logger.warning("could not queue settlement, the sweeper will: %s", error)


def _drain_in_progress(organization_id: uuid.UUID) -> bool:
    """Whether a drain holds the lease, and so will consume a wake-up set before this was asked.

    It does at a later look, or once it has released the lease and looks for a wake-up before it
    returns (settlement_drain): no task is needed for it. Asked after setting the wake-up, so that
    either this sees the lease or the drain, releasing it after, sees the wake-up.
    """
    try:
        return organization_drain_in_progress(organization_id)
    except DatabaseError as error:
        logger.warning("could not look for a settlement drain, queueing a task: %s", error)
        return False


def wakeup_consumed(organization_id: uuid.UUID) -> bool:
    """A worker is about to look for pending spends: spends accepted from now on need a new wake-up.

    Returns whether a queued wake-up was consumed.
    """
    try:
        return bool(get_redis_connection("default").delete(_wakeup_key(organization_id)))
    except RedisError as error:
        logger.warning("could not clear the settlement wake-up: %s", error)
        return False


def wakeup_queued(organization_id: uuid.UUID) -> bool:
    try:
        return bool(get_redis_connection("default").exists(_wakeup_key(organization_id)))
    except RedisError as error:
        logger.warning("could not look for a settlement wake-up, the sweeper will: %s", error)
        return False
