"""Gunicorn for LedgerX, chosen with `make bench --ingest-only` on the 2-core machine.

POST /transactions at 64 clients, workers x threads: ingest rps and the web server's CPU per request.
  4 x 2: 465 rps 3.42 ms, 551 rps 2.87 ms      2 x 2: 517 rps 2.82 ms, 435 rps 3.35 ms, 583 rps 2.40 ms
  4 x 1: 468 rps 3.37 ms      6 x 1: 410 rps 3.75 ms      3 x 2: 446 rps 3.50 ms      2 x 3: 493 rps 2.67 ms
  2 x 1: 561 rps 2.47 ms
The machine's speed drifts by a third between runs, but fewer processes cost less CPU per request
(fewer context switches, warmer caches). One thread per worker did as well on this short, uniform
request, but would let one slow request (a large report, a database or Redis timeout) hold up a
whole core's traffic; a second thread costs little. Hence one worker per core, two threads each.

The worker is gthread's, except that while its threads are busy it leaves a new connection 1 ms to
an idle sibling (`ledgerx/gunicorn_worker.py`). Kept-alive connections stay where they were
accepted, and stock gthread split `make bench`'s 64 clients as unevenly as 47/17 or 63/1.
Eight full `make bench` runs on 2026-12-03, balanced and stock in the order B S S B B S S B
(results suffixed `-balanced`): ingest p99 94, 88, 75, 124 ms against 101, 78, 121, 148; ingest
ratio 0.91, 0.90, 0.86, 0.80 against 0.84, 0.83, 0.86, 0.78; end-to-end accept p99 13-24 ms
against 14-52. Leaving a connection 5 ms instead slowed the first request of connections opened in
a burst (baseline p99 138-149 against 82-97 ms in three ingest-only pairs)."""

import gc
import importlib
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
worker_class = "ledgerx.gunicorn_worker.BalancedThreadWorker"
keepalive = 5
# Request line and header limits, stated: a request over them is answered 414/431/400 in the error
# shape by the worker, before Django; bodies are bounded by ledgerx/body_limit.py.
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
timeout = 30
graceful_timeout = 20
# A recycled worker is a hiccup: its kept-alive clients reconnect, and its token cache and prepared
# statement start cold. At 20,000 requests a worker, 500 spends a second recycled one every 80 s,
# and `make bench` (about 41,000 requests on two workers) in its end-to-end phase. The limit stays
# as a guard against leaks.
max_requests = 200_000
max_requests_jitter = 20_000
# Workers fork from a master that has loaded the application and imported every view, instead of
# each importing Django afresh: about 2 s of CPU per worker, during which, after a max_requests
# recycle, the other workers carried all the traffic (`make bench` saw end-to-end p99 rise from
# 120 ms to 680 ms in the second a worker was replaced). New code therefore needs a restart, not a HUP.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")
errorlog = "-"


def when_ready(server):
    """Import what a first request would (the URLconf, and through it every view), before forking."""
    from django.conf import settings

    importlib.import_module(settings.ROOT_URLCONF)


def post_worker_init(worker):
    """Move everything loading the application created into the permanent generation.

    Measured in a worker: about 230,000 objects, which a full collection would otherwise walk for
    about 160 ms every few thousand requests, stalling every request in that worker meanwhile.
    """
    gc.collect()
    gc.freeze()
