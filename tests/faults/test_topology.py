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

import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

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
