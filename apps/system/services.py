"""Writes of the system app: worker heartbeats in Redis."""

import json
import os
import time

from django_redis import get_redis_connection

HEARTBEATS_KEY = "ledgerx:worker-heartbeats"
# A worker silent this long is dropped from the list altogether (it shows as stale before that).
HEARTBEAT_FORGET_AFTER_SECONDS = 600


def worker_heartbeat_record(*, hostname: str, queues: list[str], now: float | None = None) -> None:
    """Record that `hostname` is alive now, and forget workers silent for longer than ten minutes."""
    now = time.time() if now is None else now
    client = get_redis_connection("default")
    client.hset(HEARTBEATS_KEY, hostname, json.dumps({"at": now, "queues": queues, "pid": os.getpid()}))
    stale = [
        name
        for name, raw in client.hgetall(HEARTBEATS_KEY).items()
        if now - json.loads(raw)["at"] > HEARTBEAT_FORGET_AFTER_SECONDS
    ]
    if stale:
        client.hdel(HEARTBEATS_KEY, *stale)


def worker_heartbeat_clear(*, hostname: str) -> None:
    """A worker that stops cleanly leaves the list at once."""
    get_redis_connection("default").hdel(HEARTBEATS_KEY, hostname)
