"""LedgerX on several hosts, on one machine: network namespaces joined by veth links on a bridge.

    python deploy/topology.py up      # build the hosts, start PostgreSQL, Redis, the web servers and workers
    python deploy/topology.py down    # stop and remove every topology this script built (idempotent)
    python deploy/topology.py down lxt1a2b3   # only that one

Hosts (one network namespace each, on 10.213.N.0/24; N is the first subnet no address of this machine uses):

    .1  this machine (the root namespace), where clients and the operator stand
    .2  data     PostgreSQL (port 5432) and Redis (port 6379)
    .3  web1     python -m ledgerx.web on port 8000
    .4  web2     python -m ledgerx.web on port 8000
    .5  settle   the settlement worker (queue `settlement`)
    .6  fraud    the fraud worker, the default and webhooks worker, and beat

Every host gets the documented variables (docs/operations.md, "Configuration" and "Several hosts"):
DATABASE_URL naming the application role, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS; `migrate` alone gets
DATABASE_OWNER_URL. Needs root (ip netns) and Debian's PostgreSQL server programs and redis-server.

A script, not part of the ledgerx package (as deploy/fallback_servers.py): the tests import it too, so
that the topology they check is the one this builds (tests/faults/test_topology.py).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Every name this script makes starts with it: `down` finds what a crashed run left by it.
PREFIX = "lxt"
SUBNET_BASE = "10.213"
HOSTS = {"data": 2, "web1": 3, "web2": 4, "settle": 5, "fraud": 6}
WEB_HOSTS = ("web1", "web2")
WEB_PORT = 8000
STATE_DIR = Path(tempfile.gettempdir())


@dataclass
class Topology:
    """One built topology: its names, its subnet, its secrets and where it keeps its files."""

    name: str
    subnet: int
    directory: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    owner_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redis_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    extra_env: dict[str, str] = field(default_factory=dict)

    def namespace(self, host: str) -> str:
        return f"{self.name}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET_BASE}.{self.subnet}.{1 if host == 'root' else HOSTS[host]}"

    @property
    def database_owner_url(self) -> str:
        return f"postgresql://postgres:{self.owner_password}@{self.address('data')}:5432/ledgerx"

    @property
    def database_url(self) -> str:
        # The application role's password as DATABASE_URL gives it; `migrate` creates the role with it.
        return f"postgresql://ledgerx_app:{self.app_password}@{self.address('data')}:5432/ledgerx"

    @property
    def app_password(self) -> str:
        return f"app-{self.owner_password}"

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.redis_password}@{self.address('data')}:6379/0"

    def web_url(self, host: str) -> str:
        return f"http://{self.address(host)}:{WEB_PORT}"

    def env(self, host: str) -> dict[str, str]:
        """The environment of every LedgerX process on `host`: the documented variables, and nothing of ours."""
        path = os.environ.get("PATH", "/usr/bin:/bin")
        return {
            "PATH": path,
            "HOME": os.environ.get("HOME", "/root"),
            "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": ",".join(self.address(web) for web in WEB_HOSTS),
            # Plain HTTP between the hosts of one machine; production puts TLS in front (deploy/nginx.conf).
            "SECURE_SSL_REDIRECT": "0",
            "LEDGERX_VAR_DIR": str(Path(self.directory) / f"var-{host}"),
            # What compose's shared volume is: every host reads and writes the same receipt files.
            "RECEIPTS_DIR": str(Path(self.directory) / "receipts"),
            **self.extra_env,
        }

    def save(self) -> None:
        """Written for the operator: it holds the passwords, so only root reads it."""
        path = Path(self.directory) / "topology.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(self), indent=2))


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def in_namespace(topology: Topology, host: str, command: list[str]) -> list[str]:
    return ["ip", "netns", "exec", topology.namespace(host), *command]


def _free_subnet() -> int:
    used = _ip("-4", "-o", "addr", "show").stdout + _ip("-4", "route", "show").stdout
    for subnet in range(256):
        if f"{SUBNET_BASE}.{subnet}." not in used:
            return subnet
    raise SystemExit(f"every {SUBNET_BASE}.N.0/24 is in use on this machine")


def network_up(name: str | None = None, extra_env: dict[str, str] | None = None) -> Topology:
    """The namespaces, each with `eth0` on a bridge (in a namespace of its own) and this machine on it as .1."""
    name = name or f"{PREFIX}{secrets.token_hex(3)}"
    directory = STATE_DIR / f"ledgerx-topology-{name}"
    directory.mkdir(mode=0o755)
    topology = Topology(name=name, subnet=_free_subnet(), directory=str(directory), extra_env=extra_env or {})
    topology.save()
    switch = f"{name}-net"
    _ip("netns", "add", switch)
    _ip("-n", switch, "link", "add", "br0", "type", "bridge")
    _ip("-n", switch, "link", "set", "br0", "up")
    # This machine's end: named after the topology, so that `down` finds it.
    _ip("link", "add", name, "type", "veth", "peer", "name", "root", "netns", switch)
    _ip("addr", "add", f"{topology.address('root')}/24", "dev", name)
    _ip("link", "set", name, "up")
    _ip("-n", switch, "link", "set", "root", "master", "br0", "up")
    for host in HOSTS:
        namespace = topology.namespace(host)
        _ip("netns", "add", namespace)
        _ip("-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", host, "netns", switch)
        _ip("-n", namespace, "addr", "add", f"{topology.address(host)}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", switch, "link", "set", host, "master", "br0", "up")
    return topology


def namespaces(name: str | None = None) -> list[str]:
    """The namespaces of topology `name`, or of every topology this script built."""
    listed = [line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line.strip()]
    return [ns for ns in listed if ns.startswith(f"{name}-" if name else PREFIX)]


def host_kill(topology: Topology, host: str) -> None:
    """Every process on `host` killed at once, as a host that loses its power."""
    _kill_namespace(topology.namespace(host))


def _kill_namespace(namespace: str) -> None:
    for _ in range(50):
        pids = [int(pid) for pid in _ip("netns", "pids", namespace, check=False).stdout.split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    raise RuntimeError(f"processes in {namespace} outlived SIGKILL")


def down(name: str | None = None) -> list[str]:
    """Kill every process in the topology's namespaces, remove them and their files; nothing left is no error."""
    removed = namespaces(name)
    for directory in STATE_DIR.glob(f"ledgerx-topology-{name or PREFIX}*/pg"):
        # PostgreSQL stopped by itself, so that it releases its shared memory; then everything is killed.
        pg_ctl = [str(postgres_bin() / "pg_ctl"), "-D", str(directory), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_postgres(pg_ctl), capture_output=True, timeout=60)
    for namespace in removed:
        _kill_namespace(namespace)
    for namespace in removed:
        _ip("netns", "delete", namespace, check=False)  # the veth pairs go with their namespaces
    for link in _ip("-o", "link", "show").stdout.splitlines():
        link_name = link.split(":")[1].strip().split("@")[0]
        if link_name.startswith(name or PREFIX) and "-" not in link_name:
            _ip("link", "delete", link_name, check=False)
    for directory in STATE_DIR.glob(f"ledgerx-topology-{name or PREFIX}*"):
        shutil.rmtree(directory, ignore_errors=True)
    return removed


def postgres_bin() -> Path:
    """Debian's PostgreSQL server programs, the newest installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    if not found:
        raise SystemExit("PostgreSQL's server programs are not installed (apt-get install postgresql)")
    return found[-1].parent


def _as_postgres(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def spawn(topology: Topology, host: str, label: str, command: list[str], env: dict[str, str] | None = None):
    """`command` running on `host`, detached, its output in the topology's directory as `host-label.log`."""
    log = (Path(topology.directory) / f"{host}-{label}.log").open("ab")
    return subprocess.Popen(
        in_namespace(topology, host, command),
        env=env or topology.env(host),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # outlives `up`; `down` kills it by its namespace
    )


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} within {timeout:.0f} s")
        time.sleep(0.1)


def _listening(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def data_up(topology: Topology) -> None:
    """PostgreSQL and Redis on the data host, reachable from the subnet only, with passwords."""
    pg_dir = Path(topology.directory) / "pg"
    pg_dir.mkdir()
    password_file = Path(topology.directory) / "owner-password"
    password_file.write_text(topology.owner_password)
    if os.geteuid() == 0:
        shutil.chown(pg_dir, "postgres", "postgres")
        shutil.chown(password_file, "postgres", "postgres")
    bin_dir = postgres_bin()
    initdb = [str(bin_dir / "initdb"), "-D", str(pg_dir), "-U", "postgres", f"--pwfile={password_file}"]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=120)
    password_file.unlink()
    with (pg_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"listen_addresses = '{topology.address('data')}'\nport = 5432\n")
        conf.write(f"unix_socket_directories = '{pg_dir}'\nmax_connections = 200\n")
        # A topology of one machine, rebuilt at will: durability would only cost the tests time.
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    with (pg_dir / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {SUBNET_BASE}.{topology.subnet}.0/24 scram-sha-256\n")
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(pg_dir), "-l", str(pg_dir / "log"), "-w", "start"]
    subprocess.run(in_namespace(topology, "data", _as_postgres(pg_ctl)), check=True, capture_output=True, timeout=60)
    createdb = [str(bin_dir / "createdb"), "-h", str(pg_dir), "-U", "postgres", "ledgerx"]
    subprocess.run(_as_postgres(createdb), check=True, capture_output=True, timeout=60)
    redis = [shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", topology.address("data")]
    redis += ["--port", "6379", "--requirepass", topology.redis_password, "--save", "", "--appendonly", "no"]
    spawn(topology, "data", "redis", redis)
    wait_until(lambda: _listening(topology.address("data"), 6379), 10, "Redis did not start")


def manage(topology: Topology, host: str, *args: str, owner: bool = False) -> subprocess.CompletedProcess:
    """`manage.py args` on `host`; `owner` gives it DATABASE_OWNER_URL, as only the migrate job has it."""
    env = topology.env(host)
    if owner:
        env["DATABASE_OWNER_URL"] = topology.database_owner_url
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    return subprocess.run(
        in_namespace(topology, host, command), env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def _checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args[4:6])} failed:\n{result.stdout}\n{result.stderr}")
    return result


def seed(topology: Topology) -> subprocess.CompletedProcess:
    """The TechCorp demo, without its spend history, seeded from web1."""
    return _checked(manage(topology, "web1", "seed_demo", "--without-history", "-v", "0"))


def celery_worker(topology: Topology, host: str, queues: str, *options: str) -> list[str]:
    command = [str(BIN / "celery"), "-A", "ledgerx", "--quiet", "worker", "-Q", queues, *options]
    return [*command, "-n", f"{queues.split(',')[0]}@{topology.namespace(host)}", "--loglevel", "warning"]


def web_up(topology: Topology, host: str) -> None:
    # One granian worker a web host: the hosts share this machine's cores.
    env = {**topology.env(host), "WEB_BIND": f"{topology.address(host)}:{WEB_PORT}", "WEB_WORKERS": "1"}
    spawn(topology, host, "web", [sys.executable, "-m", "ledgerx.web"], env=env)


def settlement_worker_up(topology: Topology, host: str) -> None:
    spawn(topology, host, "settlement", celery_worker(topology, host, "settlement", "-c", "2"))


def web_hosts_up(topology: Topology, static: bool = True) -> None:
    """The web server on each web host, answering.

    `static`: each web host collects the pages' static files first, as the image does at build time;
    the API needs none.
    """
    if static:
        with ThreadPoolExecutor() as pool:
            collected = [
                pool.submit(manage, topology, host, "collectstatic", "--noinput", "-v", "0") for host in WEB_HOSTS
            ]
            for result in collected:
                _checked(result.result())
    for host in WEB_HOSTS:
        web_up(topology, host)
    for host in WEB_HOSTS:
        wait_until(lambda host=host: web_healthy(topology, host), 60, f"the web server on {host} did not answer")


def worker_hosts_up(topology: Topology) -> None:
    """The workers and beat, each on its host (the queues split as in docker-compose.yml)."""
    settlement_worker_up(topology, "settle")
    spawn(topology, "fraud", "fraud", celery_worker(topology, "fraud", "fraud", "-c", "1"))
    # Default and webhooks in one threaded worker here: compose gives each its own, this machine is small.
    default = celery_worker(topology, "fraud", "default,webhooks", "-P", "threads", "-c", "8")
    spawn(topology, "fraud", "default", default)
    schedule = str(Path(topology.directory) / "celerybeat-schedule")
    beat = [str(BIN / "celery"), "-A", "ledgerx", "--quiet", "beat", "--loglevel", "warning", "--schedule", schedule]
    spawn(topology, "fraud", "beat", beat)


def web_healthy(topology: Topology, host: str) -> bool:
    try:
        with urllib.request.urlopen(f"{topology.web_url(host)}/healthz", timeout=1) as response:  # noqa: S310 (http)
            return response.status == 200
    except OSError:
        return False


def up(extra_env: dict[str, str] | None = None, static: bool = True) -> Topology:
    """The whole topology, serving: on any failure, what was built is removed again."""
    topology = network_up(extra_env=extra_env)
    try:
        data_up(topology)
        # The migrate job, as the owner, before anything else connects. The web servers start while the
        # demo is seeded; the workers and beat after, so that no scheduled task races the seeding.
        _checked(manage(topology, "web1", "migrate", "--noinput", "-v", "0", owner=True))
        with ThreadPoolExecutor() as pool:
            seeded = pool.submit(seed, topology)
            web_hosts_up(topology, static)
            seeded.result()
        worker_hosts_up(topology)
    except BaseException:
        down(topology.name)
        raise
    return topology


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="build the hosts and start LedgerX on them")
    remove = commands.add_parser("down", help="stop and remove a topology (all of them by default)")
    remove.add_argument("name", nargs="?", help=f"the topology's name ({PREFIX}...), as `up` printed it")
    options = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("ip netns needs root")
    if options.command == "down":
        removed = down(options.name)
        print(f"removed {len(removed)} namespaces" if removed else "nothing to remove")
        return
    topology = up()
    print(f"topology {topology.name} on {SUBNET_BASE}.{topology.subnet}.0/24, files and logs in {topology.directory}")
    for host in WEB_HOSTS:
        print(f"  {host}: {topology.web_url(host)}")
    print(
        f"  sign in as alice@techcorp.com (password ledgerx-demo); stop with: deploy/topology.sh down {topology.name}"
    )


if __name__ == "__main__":
    main()
