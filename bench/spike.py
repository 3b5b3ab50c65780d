"""`make spike`: the locust spike test against a server, workers and beat of its own.

Seeds 500 employees with API tokens on a fresh bench database, runs tests/load/transaction_spike.py
headless, and exits with locust's verdict (which includes: every accepted spend final, the ledger
verified). Appends the run's row to docs/benchmarks.csv; locust's own CSV files stay in var/spike/.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.run import (
    BIN,
    ROOT,
    WEB_SERVER,
    benchmarks_csv_append,
    free_port,
    recreate_database,
    run_row,
    seed,
    setup_django,
    start,
    stop,
    wait_http,
)

USERS = int(os.environ.get("SPIKE_USERS", "500"))
# locust's own CSV files (stats, history, failures), kept out of the repository.
LOCUST_CSV_PREFIX = ROOT / "var" / "spike" / "spike"


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

    LOCUST_CSV_PREFIX.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    processes = [
        start(WEB_SERVER, port),
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
                str(LOCUST_CSV_PREFIX),
            ],
            env={**os.environ, "SPIKE_TOKENS_FILE": str(tokens_file)},
            check=False,
        )
    finally:
        for process in processes:
            stop(process)
        tokens_file.unlink(missing_ok=True)
    benchmarks_csv_append(run_row("spike", spike_figures(Path(f"{LOCUST_CSV_PREFIX}_stats.csv"), result.returncode)))
    sys.exit(result.returncode)


def spike_figures(stats_csv: Path, exit_code: int) -> dict:
    """The run's figures from locust's stats file: requests, retries answered as replays, failures, rate, latency."""
    with stats_csv.open(newline="") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    total = rows["Aggregated"]
    return {
        "cores": os.cpu_count(),
        "spike_users": USERS,
        "spike_requests": int(total["Request Count"]),
        "spike_retries": int(rows.get("POST /transactions (retry)", {}).get("Request Count", 0)),
        "spike_failures": int(total["Failure Count"]),
        "spike_rps": round(float(total["Requests/s"]), 1),
        "spike_p50_ms": float(total["50%"]),
        "spike_p99_ms": float(total["99%"]),
        "spike_max_ms": round(float(total["Max Response Time"]), 1),
        # 0: no failure, every accepted spend final and the ledger verified (tests/load/transaction_spike.py).
        "spike_exit_code": exit_code,
    }


if __name__ == "__main__":
    main()
