"""Settlement's own metrics: batch sizes and how long spends waited, as Prometheus histograms in Redis.

Written here, after each batch commits; the system app reads and renders them (/metrics, /system/).
"""

from bisect import bisect_left

from django_redis import get_redis_connection

SETTLEMENT_HISTOGRAMS_KEY = "ledgerx:metrics:settlement"
# Upper bounds of the histogram buckets, as Prometheus spells them.
BATCH_SIZE_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500)
SETTLE_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _bucket_counts(prefix: str, values: list[float], bounds: tuple) -> dict[str, int]:
    """How many of `values` fall at or below each bound, as Prometheus counts buckets (cumulatively).

    Bounds no value reaches are left out, so nothing is written for them.
    """
    per_bucket = [0] * (len(bounds) + 1)
    for value in values:
        per_bucket[bisect_left(bounds, value)] += 1
    counts, running = {}, 0
    for bound, count in zip((*bounds, "+Inf"), per_bucket, strict=True):
        running += count
        if running:
            counts[f"{prefix}:le:{bound}"] = running
    return counts


def settlement_observe(*, batch_size: int, latencies_seconds: list[float]) -> None:
    """Count one settlement batch and how long its spends waited, in one Redis round trip.

    Called after the batch committed; losing a sample (Redis away) never touches settlement.
    """
    increments = {
        **_bucket_counts("batch_size", [batch_size], BATCH_SIZE_BUCKETS),
        **_bucket_counts("latency", latencies_seconds, SETTLE_LATENCY_BUCKETS),
    }
    pipeline = get_redis_connection("default").pipeline(transaction=False)
    for field, amount in increments.items():
        pipeline.hincrby(SETTLEMENT_HISTOGRAMS_KEY, field, amount)
    pipeline.hincrby(SETTLEMENT_HISTOGRAMS_KEY, "batch_size:sum", batch_size)
    pipeline.hincrby(SETTLEMENT_HISTOGRAMS_KEY, "batch_size:count", 1)
    pipeline.hincrbyfloat(SETTLEMENT_HISTOGRAMS_KEY, "latency:sum", sum(latencies_seconds))
    pipeline.hincrby(SETTLEMENT_HISTOGRAMS_KEY, "latency:count", len(latencies_seconds))
    pipeline.execute()
