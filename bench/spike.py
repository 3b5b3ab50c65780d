"""`make spike`: the locust spike test against a server, workers and beat of its own.

Seeds 500 employees with API tokens on a fresh bench database, runs tests/load/transaction_spike.py
headless, and exits with locust's verdict (which includes: every accepted spend final, the ledger
verified).
"""

import json
import os
import subprocess
import sys

from bench.run import BIN, ROOT, free_port, recreate_database, seed, setup_django, start, stop, wait_http

USERS = int(os.environ.get("SPIKE_USERS", "500"))


def main() -> None:
    recreate_database()
    setup_django()
    organization, employee_tokens = seed(USERS)
    from apps.tenancy.models import Role, User
    from apps.tenancy.services import token_create

    finance = User.objects.create_user(
        "finance@bench.example", "bench-password-1", role=Role.FINANCE_MANAGER, organization=organization
    )
    root = User.objects.create_user("root@bench.example", "bench-password-1", role=Role.SYSTEM_ADMIN, is_superuser=True)
    tokens_file = ROOT / "var" / "spike-tokens.json"
    tokens_file.parent.mkdir(exist_ok=True)
    tokens_file.write_text(
        json.dumps(
            {"employees": employee_tokens, "finance": token_create(user=finance), "root": token_create(user=root)}
        )
    )

    port = free_port()
    processes = [
        start([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "ledgerx.wsgi"], port),
        start(
            [
                str(BIN / "celery"),
                "-A",
                "ledgerx",
                "worker",
                "-Q",
                "settlement,default",
                "-c",
                "2",
                "--loglevel",
                "warning",
                "-n",
                "spike@%h",
            ]
        ),
        start(
            [
                str(BIN / "celery"),
                "-A",
                "ledgerx",
                "beat",
                "--loglevel",
                "warning",
                "--schedule",
                str(ROOT / "var" / "spike-beat"),
            ]
        ),
    ]
    try:
        wait_http(port)
        result = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "tests" / "load" / "transaction_spike.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{port}",
                "--only-summary",
                "--csv",
                str(ROOT / "bench" / "results" / "spike"),
            ],
            env={**os.environ, "SPIKE_TOKENS_FILE": str(tokens_file)},
            check=False,
        )
    finally:
        for process in processes:
            stop(process)
        tokens_file.unlink(missing_ok=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
