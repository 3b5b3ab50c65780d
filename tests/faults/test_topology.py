"""LedgerX on several hosts of this machine: network namespaces joined over veth links on a bridge,
built and removed by deploy/topology.py (what deploy/topology.sh runs), so the test checks the
topology the script builds.

Hosts: data (PostgreSQL and Redis), web1 and web2, settle (the settlement worker), fraud (the fraud,
default and webhooks workers and beat). Each talks to the others over the bridge with the documented
variables only. The test talks to its own hosts on its own subnet, and removes them in `finally`;
names are unique per run, so a run that crashed never blocks the next (`deploy/topology.sh down`
removes what it left).

Skipped, with the reason, where `ip netns` is not allowed (not root, no iproute2, a container without
CAP_SYS_ADMIN) or PostgreSQL's server programs or redis-server are missing.
"""

import http.client
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.faults.test_faults import _post
from tests.processes import ROOT, wait_until

pytestmark = pytest.mark.slow


def _load_topology():
    spec = importlib.util.spec_from_file_location("deploy_topology", ROOT / "deploy" / "topology.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


topology = _load_topology()

DEMO_PASSWORD = "ledgerx-demo"
SPEND = {"amount": "10.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
LOAD_SPENDS = 200
CLIENTS = 8


def _netns_refusal() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "ip netns needs root, and this run is not root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or not shutil.which("runuser"):
        return "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    if not shutil.which("redis-server"):
        return "redis-server is not installed"
    probe = f"{topology.PREFIX}probe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns is not allowed here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


@pytest.fixture(scope="module")
def netns_allowed():
    if refusal := _netns_refusal():
        pytest.skip(f"namespace topology skipped: {refusal}")


def _fetch(url: str, timeout: float = 10) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def test_the_hosts_reach_each_other_over_the_bridge_and_down_removes_everything(netns_allowed, tmp_path):
    built = topology.network_up()
    try:
        assert set(topology.namespaces(built.name)) == {f"{built.name}-{host}" for host in [*topology.HOSTS, "net"]}
        (tmp_path / "probe").write_text("data host")
        address = built.address("data")
        command = [sys.executable, "-m", "http.server", "--bind", address, "--directory", str(tmp_path), "8000"]
        server = subprocess.Popen(topology.in_namespace(built, "data", command), stderr=subprocess.DEVNULL)
        try:
            assert wait_until(lambda: topology._listening(address, 8000), timeout=20)
            assert _fetch(f"http://{address}:8000/probe") == "data host"  # from this machine, .1
            fetch = (
                f"import urllib.request; print(urllib.request.urlopen('http://{address}:8000/probe').read().decode())"
            )
            from_web1 = subprocess.run(
                topology.in_namespace(built, "web1", [sys.executable, "-c", fetch]), capture_output=True, text=True
            )
            assert from_web1.stdout.strip() == "data host", from_web1.stderr
            # Another host's loopback is its own: nothing listens on web1's 127.0.0.1:8000.
            local = "import socket; socket.create_connection(('127.0.0.1', 8000), timeout=2)"
            refused = subprocess.run(
                topology.in_namespace(built, "web1", [sys.executable, "-c", local]), capture_output=True
            )
            assert refused.returncode != 0
        finally:
            server.kill()
            server.wait()
    finally:
        topology.down(built.name)
    assert topology.namespaces(built.name) == []
    assert not Path(built.directory).exists()
    assert subprocess.run(["ip", "link", "show", built.name], capture_output=True).returncode != 0
    assert topology.down(built.name) == []  # again: nothing left is no error


def test_a_topology_left_behind_does_not_block_the_next_and_is_left_alone_by_its_teardown(netns_allowed):
    left = topology.network_up()  # as a run that crashed would leave it
    try:
        built = topology.network_up()
        try:
            assert built.name != left.name and built.subnet != left.subnet
        finally:
            topology.down(built.name)
        assert topology.namespaces(built.name) == []
        assert len(topology.namespaces(left.name)) == len(topology.HOSTS) + 1
    finally:
        topology.down(left.name)
    assert topology.namespaces(left.name) == []


@pytest.fixture
def served(netns_allowed):
    # Batches of 10: the settlement host dies inside one. Sweeps every second: the test waits less.
    built = topology.up(extra_env={"SETTLEMENT_BATCH_SIZE": "10", "SETTLEMENT_SWEEP_AFTER_SECONDS": "1"}, static=False)
    try:
        yield built
    finally:
        topology.down(built.name)


def _sign_in(base_url: str, email: str) -> str:
    request = urllib.request.Request(
        f"{base_url}/api/v1/auth/token",
        data=json.dumps({"email": email, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["token"]


def _get(base_url: str, token: str, path: str) -> dict:
    request = urllib.request.Request(f"{base_url}{path}", headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _owner_query(built, sql: str) -> list[tuple]:
    with psycopg.connect(built.database_owner_url, connect_timeout=5) as conn:
        return conn.execute(sql).fetchall()


def _walk_through(built) -> None:
    """The README's walk-through, its requests spread over both web hosts."""
    web1, web2 = built.web_url("web1"), built.web_url("web2")
    alice = _sign_in(web1, "alice@techcorp.com")
    laptops = {"amount": "6000.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}
    status, _, spend = _post(web1, alice, "laptops-1", laptops)
    assert status == 202 and spend["status"] == "pending", spend
    # Settled by the settlement host, read back through the other web host.
    assert wait_until(lambda: _get(web2, alice, f"/api/v1/transactions/{spend['id']}")["status"] == "posted", 60)
    status, headers, replayed = _post(web2, alice, "laptops-1", laptops)
    assert status == 202 and replayed["id"] == spend["id"] and headers.get("Idempotent-Replayed") == "true"
    assert _post(web2, alice, "laptops-1", {**laptops, "amount": "6001.00"})[0] == 422

    bob = _sign_in(web2, "bob@techcorp.com")
    status, _, servers = _post(web2, bob, "servers-1", {**laptops, "amount": "48000.00"})
    assert status == 202

    def decided() -> bool:
        servers.update(_get(web1, bob, f"/api/v1/transactions/{servers['id']}"))
        return servers["status"] != "pending"

    assert wait_until(decided, 60)
    assert servers["status"] == "rejected", servers
    assert servers["rejection_reason"].startswith("Department 'Engineering' budget exceeded. Limit: $50,000")

    request = urllib.request.Request(
        f"{web1}/api/v1/query",
        data=json.dumps({"q": "How much did I spend on equipment this month?"}).encode(),
        headers={"Authorization": f"Token {alice}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert answer["source"] == "rules" and answer["answer"]["sentence"], answer


class SpendLoad:
    """Clients sending spends, each with its own Idempotency-Key, to one web host and, when that one fails
    to answer, to the other with the same key."""

    def __init__(self, built, tokens: list[str]) -> None:
        self.hosts = [built.web_url(host) for host in topology.WEB_HOSTS]
        self.tokens = tokens
        self.accepted: dict[str, str] = {}
        self.failovers = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def send(self, index: int) -> None:
        key = f"load-{index}"
        token = self.tokens[index % len(self.tokens)]
        for attempt in range(20):
            base_url = self.hosts[(index + attempt) % 2]
            try:
                status, _, body = _post(base_url, token, key, SPEND)
            # The host is gone, cut its answer short (IncompleteRead) or answered with no JSON while dying.
            except (OSError, http.client.HTTPException, ValueError):
                status, body = None, None
            if status == 202:
                with self.lock:
                    assert self.accepted.setdefault(key, body["id"]) == body["id"]
                return
            if status is not None and status not in (429, 503):
                self.errors.append(f"{key}: {status} {body}")
                return
            with self.lock:
                self.failovers += 1
            time.sleep(0.05 * attempt)
        self.errors.append(f"{key}: never accepted")

    def run(self, count: int, clients: int) -> list[threading.Thread]:
        def client(first: int) -> None:
            try:
                for index in range(first, count, clients):
                    self.send(index)
            except Exception as error:  # noqa: BLE001 - a client that dies says why instead of just missing spends
                self.errors.append(f"client {first}: {error!r}")

        threads = [threading.Thread(target=client, args=(first,)) for first in range(clients)]
        for thread in threads:
            thread.start()
        return threads


def _spend_counts(built) -> dict[str, int]:
    rows = _owner_query(built, "SELECT status, count(*) FROM ledger_transaction WHERE kind = 'spend' GROUP BY status")
    return dict(rows)


def test_killing_a_web_host_and_the_settlement_host_mid_pass_loses_nothing(served):
    built = served
    _walk_through(built)

    tokens = [_sign_in(built.web_url("web2"), f"{name}@techcorp.com") for name in ("alice", "bob", "carol")]
    load = SpendLoad(built, tokens)
    started = time.monotonic()
    threads = load.run(LOAD_SPENDS, CLIENTS)
    # Web host 1 dies a third of the way in: its clients go on through web2 with the same keys.
    assert wait_until(lambda: len(load.accepted) >= LOAD_SPENDS // 3, timeout=120)
    topology.host_kill(built, "web1")
    # The settlement host dies with spends of the pass settled and more arriving: inside a batch, most likely.
    assert wait_until(lambda: _spend_counts(built).get("posted", 0) >= 1 + LOAD_SPENDS // 2 - 40, timeout=120)
    topology.host_kill(built, "settle")
    for thread in threads:
        thread.join(timeout=180)
    assert not load.errors, load.errors[:5]
    assert len(load.accepted) == LOAD_SPENDS
    assert not topology.web_healthy(built, "web1")
    assert load.failovers > 0, "no client ever met the dead web host"
    assert _spend_counts(built).get("pending", 0) > 0, "the settlement host died after the pass had settled"

    # A replacement settlement worker on the fraud host; beat's sweep there re-queues what was lost.
    topology.settlement_worker_up(built, "fraud")
    assert wait_until(lambda: "pending" not in _spend_counts(built), timeout=120)
    elapsed = time.monotonic() - started

    counts = _spend_counts(built)
    assert counts == {"posted": LOAD_SPENDS + 1, "rejected": 1}, counts  # with the walk-through's two
    keys = _owner_query(
        built,
        "SELECT count(*), count(DISTINCT idempotency_key) FROM ledger_transaction"
        " WHERE kind = 'spend' AND idempotency_key LIKE 'load-%'",
    )
    assert keys == [(LOAD_SPENDS, LOAD_SPENDS)]
    ids = {row[0] for row in _owner_query(built, "SELECT id::text FROM ledger_transaction WHERE kind = 'spend'")}
    assert set(load.accepted.values()) <= ids
    [(entries, posted, posted_sum, spent_sum)] = _owner_query(
        built,
        """SELECT (SELECT count(*) FROM ledger_entry),
                  (SELECT count(*) FROM ledger_transaction WHERE status = 'posted'),
                  (SELECT sum(amount_minor) FROM ledger_transaction WHERE kind = 'spend' AND status = 'posted'),
                  (SELECT sum(p.spent_minor) FROM budgets_budgetperiod p
                     JOIN tenancy_department d ON d.id = p.department_id WHERE d.parent_id IS NULL)""",
    )
    assert entries == 2 * posted
    assert spent_sum == posted_sum
    verified = topology.manage(built, "web2", "verify_ledger")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"load pass with both kills settled in {elapsed:.1f} s, {load.failovers} client failovers")
