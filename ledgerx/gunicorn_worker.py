"""gunicorn's threaded worker, leaving each new connection to an idle sibling while its threads are busy.

Every worker waits on the one listening socket, and a kept-alive connection stays with the worker
that accepted it. Stock gthread accepts whatever arrives, so a burst of new connections went
mostly to whichever worker woke first: 64 clients split 47/17 in one `make bench` round, and the
47 waited three times as long as the 17 (per-connection mean 78 against 26 ms). A busy worker here
lets a new connection wait ACCEPT_DEFER_WHILE_BUSY for an idle sibling to take it, and takes it
itself if none did: when every worker is busy, none is starved.
"""

import json
import threading
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

ACCEPT_DEFER_WHILE_BUSY = 0.001


def write_error_in_error_shape(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it could not parse (a request line or headers over the limits,
    a malformed header), in the API's error shape instead of gunicorn's HTML page."""
    body = json.dumps({"error": {"code": "bad_request", "message": f"{reason}: {mesg}", "fields": {}}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Counted down by the thread that answered, as soon as it has: the main thread hears of the
        # finished request later, when a client may already be opening its next connection.
        self.requests_in_flight = 0
        self.requests_in_flight_lock = threading.Lock()
        # Touched only by the main thread (the poller loop and its callbacks).
        self.accept_after: float | None = None  # while a new connection is left to the siblings

    def init_process(self) -> None:
        # gunicorn writes its own errors through util.write_error; this worker's process answers in
        # the error shape (gunicorn has no setting for it).
        util.write_error = write_error_in_error_shape
        super().init_process()

    def busy(self) -> bool:
        return self.requests_in_flight >= self.cfg.threads

    def enqueue_req(self, conn) -> None:
        with self.requests_in_flight_lock:
            self.requests_in_flight += 1
        super().enqueue_req(conn)

    def handle(self, conn):
        try:
            return super().handle(conn)
        finally:
            with self.requests_in_flight_lock:
                self.requests_in_flight -= 1

    def accept(self, listener) -> None:
        if self.busy():
            self.accept_after = time.monotonic() + ACCEPT_DEFER_WHILE_BUSY
            super().set_accept_enabled(False)
            return
        super().accept(listener)

    def set_accept_enabled(self, enabled: bool) -> None:
        if not (enabled and self.alive and self.accept_after is not None):
            super().set_accept_enabled(enabled)
            return
        if time.monotonic() < self.accept_after:
            return
        # The wait is over: take the connection if no sibling did (the base ignores EAGAIN).
        self.accept_after = None
        super().set_accept_enabled(True)
        for listener in self.sockets:
            super().accept(listener)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # Wake up when the wait ends, even if no other event comes; one already over ends at the
        # loop's next turn, which calls set_accept_enabled.
        if self.alive and self.accept_after is not None:
            waiting_for = self.accept_after - time.monotonic()
            if waiting_for > 0:
                timeout = min(timeout, waiting_for)
        super().wait_for_and_dispatch_events(timeout)
