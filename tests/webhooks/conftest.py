"""A real HTTP receiver on 127.0.0.1 and a real Celery worker for the webhook tests."""

import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections, transaction

from apps.webhooks import services
from apps.webhooks.models import OutboxEvent
from ledgerx.celery import app as celery_app


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived


class Receiver:
    """An HTTP server on an ephemeral port of 127.0.0.1 that records every POST.

    It answers with the statuses in `script`, one per request, then 200 for the rest, each after
    `delay` seconds. `in_flight_max` is the most requests it was answering at once.
    """

    def __init__(self, *, certfile: str | None = None, keyfile: str | None = None) -> None:
        self.requests: list[Received] = []
        self.script: list[int] = []
        self.delay = 0.0
        self.in_flight = self.in_flight_max = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._changed:
                    receiver.in_flight += 1
                    receiver.in_flight_max = max(receiver.in_flight_max, receiver.in_flight)
                    receiver.requests.append(
                        Received(headers=dict(self.headers.items()), body=body, at=time.monotonic())
                    )
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver._changed.notify_all()
                time.sleep(receiver.delay)
                with receiver._changed:
                    receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        if certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile, keyfile)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if certfile else 'http'}://127.0.0.1:{self.port}/hooks/ledgerx"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait until at least `count` requests arrived; fail the test if they do not."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            assert arrived, f"expected {count} webhook requests, got {len(self.requests)}"
            return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@contextmanager
def running_worker(queues=("default", "webhooks"), concurrency: int = 2):
    """A real Celery worker thread consuming the real Redis broker."""
    with start_worker(
        celery_app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        queues=list(queues),
        shutdown_timeout=30,
    ) as worker:
        yield worker
    connections.close_all()


@pytest.fixture
def webhook_worker(transactional_db):
    with running_worker() as worker:
        yield worker


def wait_until(predicate, timeout: float = 20.0, what: str = "the condition"):
    """Poll `predicate` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def endpoint_for(tenant, url: str, event_types=("transaction.posted",)):
    return services.webhook_endpoint_create(organization=tenant.organization, url=url, event_types=list(event_types))


def emit(tenant, event_type: str = "transaction.posted", payload: dict | None = None):
    """Emit one event the way a service does: inside the transaction of its change."""
    with transaction.atomic():
        event_id = services.outbox_emit(
            organization_id=tenant.organization.id, event_type=event_type, payload=payload or {"n": 1}
        )
    return OutboxEvent.objects.get(id=event_id)
