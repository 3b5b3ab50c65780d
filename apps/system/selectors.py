"""What the internals page, GET /api/v1/system/metrics and GET /metrics report.

Every figure is read from the real servers at the moment of asking: Redis for the Celery queues
and worker heartbeats, PostgreSQL for pending spends, latency and throughput.
"""

import json
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from apps.ledger.models import Transaction
from apps.spending.metrics import BATCH_SIZE_BUCKETS, SETTLE_LATENCY_BUCKETS, SETTLEMENT_HISTOGRAMS_KEY

from .heartbeat import HEARTBEAT_EVERY_SECONDS
from .services import HEARTBEATS_KEY
from .signals import SENT_AT_HEADER

QUEUES = ("settlement", "default", "fraud")
# Kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x163" and so on.
KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
METRICS_WINDOW = timedelta(minutes=15)
# A worker is alive while its last heartbeat is younger than three beats.
WORKER_ALIVE_WITHIN_SECONDS = 3 * HEARTBEAT_EVERY_SECONDS


def _queue_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{KOMBU_PRIORITY_SEPARATOR}{step}" for step in KOMBU_PRIORITY_STEPS]


def _oldest_sent_at(client, keys: list[str]) -> float | None:
    """Messages are pushed on the left and taken from the right, so the oldest is at index -1."""
    stamps = []
    for key in keys:
        raw = client.lindex(key, -1)
        if raw is None:
            continue
        sent_at = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
        if sent_at is not None:
            stamps.append(float(sent_at))
    return min(stamps, default=None)


def oldest_pending_created_at() -> datetime | None:
    """The oldest spend still waiting for settlement: the truest age of the settlement queue."""
    return Transaction.objects.filter(status=Transaction.Status.PENDING).aggregate(oldest=Min("created_at"))["oldest"]


def queue_stats() -> list[dict[str, Any]]:
    """Depth (messages waiting in Redis) and the age in seconds of the oldest job, per Celery queue.

    The broker and the cache are the same Redis (both come from REDIS_URL), so the cache's
    connection reads the broker's lists.
    """
    client = get_redis_connection("default")
    now = time.time()
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        for key in _queue_keys(queue):
            pipe.llen(key)
    lengths = pipe.execute()
    stats = []
    for index, queue in enumerate(QUEUES):
        steps = len(KOMBU_PRIORITY_STEPS)
        depth = sum(lengths[index * steps : (index + 1) * steps])
        if queue == "settlement":
            oldest = oldest_pending_created_at()
            oldest_at = oldest.timestamp() if oldest else None
        else:
            oldest_at = _oldest_sent_at(client, _queue_keys(queue)) if depth else None
        age = None if oldest_at is None else round(max(now - oldest_at, 0.0), 3)
        stats.append({"queue": queue, "depth": depth, "oldest_age_seconds": age})
    return stats


# The organization semi-join lets PostgreSQL walk the (organization, created_at) index instead of the table.
# The clock starts at acceptance, or at the approval decision for a spend that waited for one: the hours a
# spend waits for a person are people's time, not the machine's.
_LATENCY_SQL = """
    SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99])
        WITHIN GROUP (ORDER BY extract(epoch FROM t.processed_at - COALESCE(a.decided_at, t.created_at))::float8 * 1000)
    FROM ledger_transaction t
    LEFT JOIN approvals_approvalrequest a ON a.transaction_id = t.id
    WHERE t.organization_id IN (SELECT id FROM tenancy_organization)
      AND t.kind = 'spend' AND t.created_at >= %s AND t.processed_at IS NOT NULL
"""
_THROUGHPUT_SQL = """
    SELECT date_trunc('minute', t.created_at), date_trunc('minute', t.processed_at), count(*)
    FROM ledger_transaction t
    WHERE t.organization_id IN (SELECT id FROM tenancy_organization)
      AND t.kind = 'spend' AND t.created_at >= %s
    GROUP BY 1, 2
"""


def settlement_latency(*, since: datetime) -> dict[str, Any]:
    """Percentiles of settlement time in milliseconds over spends accepted since `since`.

    Measured from acceptance to final, or from the approval decision to final for a spend that waited
    for one (an approval still pending has no final yet).
    """
    with connection.cursor() as cursor:
        cursor.execute(_LATENCY_SQL, [since])
        count, percentiles = cursor.fetchone()
    p50, p95, p99 = percentiles if percentiles else (None, None, None)
    return {
        "settled": count,
        "p50_ms": None if p50 is None else round(float(p50), 1),
        "p95_ms": None if p95 is None else round(float(p95), 1),
        "p99_ms": None if p99 is None else round(float(p99), 1),
    }


def throughput_per_minute(*, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """Spends accepted and settled in each minute from `since` to `now` (zero-filled), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(_THROUGHPUT_SQL, [since])
        rows = cursor.fetchall()
    first = since.replace(second=0, microsecond=0)
    minutes = []
    minute = first
    while minute <= now:
        minutes.append(minute)
        minute += timedelta(minutes=1)
    accepted = dict.fromkeys(minutes, 0)
    settled = dict.fromkeys(minutes, 0)
    for created_minute, processed_minute, count in rows:
        if created_minute in accepted:
            accepted[created_minute] += count
        if processed_minute in settled:
            settled[processed_minute] += count
    return [{"minute": m.isoformat(), "accepted": accepted[m], "settled": settled[m]} for m in minutes]


def transaction_counters() -> dict[str, int]:
    """Counts since the beginning: spends accepted, posted (reversed ones were posted first), rejected."""
    counts = {
        (row["kind"], row["status"]): row["count"]
        for row in Transaction.objects.values("kind", "status").annotate(count=Count("id")).order_by()
    }
    spend = Transaction.Kind.SPEND
    status = Transaction.Status

    def of(*statuses: str) -> int:
        return sum(counts.get((spend, s), 0) for s in statuses)

    return {
        "accepted": of(*status.values),
        "posted": of(status.POSTED, status.REVERSED),
        "rejected": of(status.REJECTED),
        "pending": of(status.PENDING),
        "reversed": of(status.REVERSED),
    }


def postgres_health() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('server_version'), "
                "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())"
            )
            version, connections = cursor.fetchone()
    except DatabaseError as error:
        return {"ok": False, "error": error.__class__.__name__}
    return {
        "ok": True,
        "round_trip_ms": round((time.perf_counter() - started) * 1000, 2),
        "version": version,
        "connections": connections,
    }


def redis_health() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        client = get_redis_connection("default")
        client.ping()
        round_trip = time.perf_counter() - started
        info = client.info()
    except RedisError as error:
        return {"ok": False, "error": error.__class__.__name__}
    return {
        "ok": True,
        "round_trip_ms": round(round_trip * 1000, 2),
        "version": info.get("redis_version"),
        "connected_clients": info.get("connected_clients"),
        "used_memory_bytes": info.get("used_memory"),
    }


def worker_heartbeats() -> list[dict[str, Any]]:
    """Every worker that beat in the last ten minutes, with how long ago and whether it counts as alive."""
    now = time.time()
    workers = []
    for hostname, raw in get_redis_connection("default").hgetall(HEARTBEATS_KEY).items():
        beat = json.loads(raw)
        age = max(now - beat["at"], 0.0)
        workers.append(
            {
                "hostname": hostname.decode() if isinstance(hostname, bytes) else hostname,
                "queues": beat["queues"],
                "pid": beat["pid"],
                "last_seen_seconds": round(age, 1),
                "alive": age < WORKER_ALIVE_WITHIN_SECONDS,
            }
        )
    return sorted(workers, key=lambda worker: worker["hostname"])


def settlement_histograms() -> dict[str, Any]:
    """Cumulative histograms of settlement batch sizes and of acceptance-to-settlement seconds."""
    raw = {k.decode(): float(v) for k, v in get_redis_connection("default").hgetall(SETTLEMENT_HISTOGRAMS_KEY).items()}

    def histogram(prefix: str, bounds: tuple) -> dict[str, Any]:
        return {
            "buckets": [{"le": str(b), "count": int(raw.get(f"{prefix}:le:{b}", 0))} for b in (*bounds, "+Inf")],
            "sum": raw.get(f"{prefix}:sum", 0.0),
            "count": int(raw.get(f"{prefix}:count", 0)),
        }

    return {
        "batch_size": histogram("batch_size", BATCH_SIZE_BUCKETS),
        "settle_latency_seconds": histogram("latency", SETTLE_LATENCY_BUCKETS),
    }


def _guarded(read, unavailable):
    """A dashboard keeps showing what it can while one server is down."""
    try:
        return read()
    except (DatabaseError, RedisError):
        return unavailable


def system_metrics(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    since = now - METRICS_WINDOW
    return {
        "generated_at": now.isoformat(),
        "window_minutes": int(METRICS_WINDOW.total_seconds() // 60),
        "queues": _guarded(queue_stats, []),
        "latency": _guarded(lambda: settlement_latency(since=since), None),
        "throughput": _guarded(lambda: throughput_per_minute(since=since, now=now), []),
        "transactions": _guarded(transaction_counters, None),
        "postgresql": postgres_health(),
        "redis": redis_health(),
        "workers": _guarded(worker_heartbeats, []),
        "settlement": _guarded(settlement_histograms, None),
    }
