"""A small asyncio HTTP/1.1 load generator with keep-alive connections.

Lighter than a general-purpose client, so more of the two cores go to the server under test.
"""

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Sample:
    status: int
    latency_ms: float
    body: bytes


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @classmethod
    def combined(cls, runs: list["Run"]) -> "Run":
        """Runs made one after another, as one: their samples, and their seconds added up."""
        combined = cls(samples=[sample for run in runs for sample in run.samples])
        combined.finished = sum(run.seconds for run in runs)
        return combined

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for sample in self.samples:
            counts[sample.status] = counts.get(sample.status, 0) + 1
        return counts


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            self.writer.write(head.encode() + b"\r\n" + body)
            try:
                raw_head = await self.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            lines = raw_head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length, keep_alive = 0, True
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    keep_alive = False
            payload = await self.reader.readexactly(length) if length else b""
            if not keep_alive:
                self.close()
            return status, payload
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


RequestFactory = Callable[[int], tuple[str, str, dict[str, str], bytes]]


@contextlib.contextmanager
def collector_paused():
    """Measure with the garbage collector off, as timeit does, and collect before and after.

    A full collection in this process (the bench's own Django and earlier phases' samples) took
    about 100 ms, during which no request was sent and no answer read: every request in flight
    then looked 100 ms slower than the server made it.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def closed_loop(
    host: str, port: int, clients: int, total: int, make_request: RequestFactory, first_index: int = 0
) -> Run:
    """`clients` connections each send their next request as soon as the last answered, `total` in all.

    Requests are numbered from `first_index`, so that a run continuing an earlier one makes new keys.
    """
    run = Run()
    counter = iter(range(first_index, first_index + total))

    async def client() -> None:
        connection = Connection(host, port)
        for index in counter:
            method, path, headers, body = make_request(index)
            start = time.perf_counter()
            status, payload = await connection.request(method, path, headers, body)
            run.samples.append(Sample(status, (time.perf_counter() - start) * 1000, payload))
        connection.close()

    with collector_paused():
        run.started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        run.finished = time.perf_counter()
    return run


async def open_loop(
    host: str, port: int, rate: float, seconds: float, make_request: RequestFactory, max_in_flight: int = 256
) -> Run:
    """Requests on a fixed schedule (`rate` per second), whatever the answers' latency."""
    run = Run()
    idle: list[Connection] = []
    in_flight = asyncio.Semaphore(max_in_flight)
    total = int(rate * seconds)

    async def one(index: int) -> None:
        async with in_flight:
            connection = idle.pop() if idle else Connection(host, port)
            method, path, headers, body = make_request(index)
            start = time.perf_counter()
            status, payload = await connection.request(method, path, headers, body)
            run.samples.append(Sample(status, (time.perf_counter() - start) * 1000, payload))
            idle.append(connection)

    with collector_paused():
        run.started = time.perf_counter()
        tasks = []
        for index in range(total):
            delay = run.started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
        run.finished = time.perf_counter()
    for connection in idle:
        connection.close()
    return run


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
