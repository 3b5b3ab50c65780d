"""Gunicorn for LedgerX, as measured with `make bench`'s load on the 2-core machine (POST /transactions,
64 clients, rps): 2 workers x 4 threads 356, 3 x 2 339, 4 x 2 429, 2 x 8 400. Each request waits
on Redis and PostgreSQL several times, and every wait hands the GIL over: more processes with
fewer threads keep both cores busy with less contention. Hence two workers per core, two threads each."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
worker_class = "gthread"
keepalive = 5
timeout = 30
graceful_timeout = 20
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")
errorlog = "-"


def post_worker_init(worker):
    """Move everything loading the application created into the permanent generation.

    Measured in a worker: about 230,000 objects, which a full collection would otherwise walk for
    about 160 ms every few thousand requests, stalling every request in that worker meanwhile.
    """
    gc.collect()
    gc.freeze()
