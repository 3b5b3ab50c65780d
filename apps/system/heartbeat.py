"""A worker bootstep that records a heartbeat in Redis every few seconds.

Registered in ledgerx/celery.py; the internals page and the metrics read what it writes.
"""

import logging

from celery import bootsteps
from redis.exceptions import RedisError

from . import services

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY_SECONDS = 5.0


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker) -> None:
        self.beat(worker)
        self.timer_entry = worker.timer.call_repeatedly(HEARTBEAT_EVERY_SECONDS, self.beat, (worker,), priority=10)

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        try:
            services.worker_heartbeat_clear(hostname=worker.hostname)
        except RedisError as error:
            logger.warning("could not clear the heartbeat of %s: %s", worker.hostname, error)

    def beat(self, worker) -> None:
        try:
            services.worker_heartbeat_record(
                hostname=worker.hostname, queues=sorted(worker.app.amqp.queues.consume_from)
            )
        except RedisError as error:
            logger.warning("could not record the heartbeat of %s: %s", worker.hostname, error)
