"""`make bench`: LedgerX's throughput, measured end to end on this machine.

Starts its own web server (`python -m ledgerx.web`) and Celery workers against the local PostgreSQL
and Redis (a database and a Redis db of its own), drives them with an asyncio load generator in
this process, and prints one JSON object and a table; each run also appends one row to
docs/benchmarks.csv (the history of every run, described in docs/benchmarks.md). The load generator
shares the machine's cores with the server: compare ratios measured in one run, not absolutes
across runs.
"""

import argparse
import asyncio
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg

from bench import balances
from bench.bulk import measure_bulk
from bench.cpu import CpuMeter, per_request_ms
from bench.loadgen import Run, closed_loop, open_loop, percentile

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Another database (BENCH_DB) lets two checkouts on one machine measure without dropping each other's.
BENCH_DB = os.environ.get("BENCH_DB", "ledgerx_bench")
BENCH_PASSWORD = "bench-password-1"
BENCH_ENV = {
    "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{BENCH_DB}",
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    "SECRET_KEY": "ledgerx-bench-secret-key-for-a-throwaway-database",
    "DJANGO_SETTINGS_MODULE": "ledgerx.settings.bench",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")
    # The baseline's tables, made by the owner before migrate, whose grants then cover them: the
    # application role may not create tables (docs/operations.md, "Database roles").
    with psycopg.connect(BENCH_ENV["DATABASE_URL"], autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_baseline (id uuid PRIMARY KEY, amount text, currency text, merchant text,"
            " category text, created_at timestamptz DEFAULT now())"
        )
        connection.execute("CREATE TABLE bench_hot_row (id int PRIMARY KEY, spent bigint NOT NULL)")
        connection.execute("INSERT INTO bench_hot_row VALUES (1, 0)")
        connection.execute("CREATE TABLE bench_hot_entry (id bigserial PRIMARY KEY, amount bigint NOT NULL)")


def setup_django():
    os.environ.update(BENCH_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django_redis import get_redis_connection

    get_redis_connection("default").flushdb()


def seed(clients: int, spend_policies: int, name: str = "BenchCorp") -> tuple[object, list[str]]:
    """BenchCorp (or `name`, for another one in the same database) with one hot department, `spend_policies`
    active spend rules and `clients` employees holding API tokens.

    Passwords are hashed once and shared: the bench measures spends, not password hashing.
    """
    from django.contrib.auth.hashers import make_password

    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import Role, User

    organization = tenancy_services.organization_create(name=name, currency="USD")
    hot = tenancy_services.department_create(
        organization=organization, name="Hot department", monthly_limit_minor=10**14, actor=None
    )
    seed_spend_policies(organization, hot, spend_policies)
    password = make_password(BENCH_PASSWORD)
    users = User.objects.bulk_create(
        [
            User(
                email=f"spender{index}@{organization.slug}.example",
                password=password,
                role=Role.EMPLOYEE,
                organization=organization,
                department=hot,
            )
            for index in range(clients)
        ]
    )
    return organization, [tenancy_services.token_create(user=user) for user in users]


def seed_spend_policies(organization, department, count: int) -> None:
    """The first `count` of ten rules an organization might keep, none of which refuses the bench's spends
    ($1-$50 of travel at "Merchant N", 64 employees, 30,000 spends in a run) but each of which is asked.

    The hours rule allows the whole day, every day, since the bench runs at any hour.
    """
    from apps.controls import services as control_services
    from apps.controls.models import WEEKDAYS

    rules = [
        {"kind": "blocked_category", "category": "gambling"},
        {"kind": "blocked_merchant", "merchant": "*casino*"},
        {"kind": "employee_limit", "amount_minor": 500_000, "period": "spend", "role": "employee"},
        {"kind": "employee_limit", "amount_minor": 10_000_000, "period": "day"},
        {"kind": "employee_limit", "amount_minor": 100_000_000, "period": "month"},
        {"kind": "category_limit", "category": "travel", "amount_minor": 10**12, "department_id": department.id},
        {"kind": "allowed_hours", "from_minute": 0, "until_minute": 24 * 60, "weekdays": list(WEEKDAYS)},
        {"kind": "description_required_above", "amount_minor": 100_000},
        {"kind": "blocked_category", "category": "cash_advance"},
        {"kind": "blocked_merchant", "merchant": "*crypto*"},
    ]
    if count > len(rules):
        raise SystemExit(f"--spend-policies is at most {len(rules)}")
    for index, fields in enumerate(rules[:count], 1):
        control_services.spend_rule_create(
            actor=None,
            organization=organization,
            fields=control_services.RuleFields(name=f"Bench rule {index}", **fields),
        )


def verify() -> bool:
    from apps.ledger.selectors import ledger_verify

    report = ledger_verify()
    if not report["ok"]:
        print("verify_ledger problems:", *report["problems"][:10], sep="\n  ", file=sys.stderr)
    return report["ok"]


WEB_SERVER = [sys.executable, "-m", "ledgerx.web"]  # as deployed; binds WEB_BIND


def start(command: list[str], port: int | None = None) -> subprocess.Popen:
    env = {**os.environ, **BENCH_ENV}
    if port:
        env["WEB_BIND"] = f"127.0.0.1:{port}"
    # A session of its own, so that stop() can kill a server's workers with it.
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def wait_http(port: int, timeout: float = 120) -> None:
    # A loaded machine (other suites on its cores) has taken over 30 s to start the server.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if b"200" in sock.recv(64):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the web server did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the workers too: they would go on listening on the port
        process.wait()


def pending_count() -> int:
    from apps.ledger.models import Transaction

    return Transaction.objects.filter(status=Transaction.Status.PENDING).count()


def verify_settled() -> bool:
    wait_all_final(timeout=600)
    return verify()


def wait_all_final(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pending_count():
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending_count()} spends still pending after {timeout}s")
        time.sleep(0.1)


def spend_request(tokens: list[str], prefix: str):
    def make(index: int):
        body = orjson.dumps(
            {
                "amount": f"{1 + index % 50}.00",
                "currency": "USD",
                "merchant": f"Merchant {index % 97}",
                "category": "travel",
            }
        )
        headers = {
            "Authorization": f"Token {tokens[index % len(tokens)]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{prefix}-{index}",
        }
        return "POST", "/api/v1/transactions", headers, body

    return make


def baseline_request(tokens: list[str]):
    make_spend = spend_request(tokens, "baseline")

    def make(index: int):
        _, _, headers, body = make_spend(index)
        return "POST", "/bench/baseline", headers, body

    return make


def latency_figures(run, prefix: str) -> dict:
    latencies = [s.latency_ms for s in run.samples]
    return {
        f"{prefix}_rps": round(len(run.samples) / run.seconds, 1),
        f"{prefix}_p50_ms": round(percentile(latencies, 0.50), 2),
        f"{prefix}_p99_ms": round(percentile(latencies, 0.99), 2),
    }


def pgbench_hot_row(seconds: int) -> float:
    output = subprocess.run(
        [
            "pgbench",
            "-n",
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            str(ROOT / "bench" / "hot_row.sql"),
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            BENCH_DB,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"tps = ([0-9.]+)", output).group(1))


def measure_ingest(port: int, tokens: list[str], args, figures: dict, checks: dict, check=verify) -> None:
    """Baseline and ingest at `args.clients` clients, in alternating rounds; then `check` the ledger.

    The machine's speed drifts (its cores are shared with the load generator, and in a VM with
    other guests); alternating makes the drift fall on both alike, so their ratio holds.
    """
    asyncio.run(closed_loop("127.0.0.1", port, 16, 1_000, baseline_request(tokens)))  # warm-up
    runs: dict[str, list[Run]] = {"baseline": [], "ingest": []}
    cpu_seconds: dict[str, dict[str, float]] = {"baseline": {}, "ingest": {}}
    make = {"baseline": baseline_request(tokens), "ingest": spend_request(tokens, "ingest")}
    totals = {"baseline": args.baseline_requests, "ingest": args.backlog}
    for round_index in range(args.rounds):
        for kind in ("baseline", "ingest"):
            share = totals[kind] // args.rounds + (round_index < totals[kind] % args.rounds)
            first = sum(len(run.samples) for run in runs[kind])
            meter = CpuMeter()
            meter.start()
            runs[kind].append(asyncio.run(closed_loop("127.0.0.1", port, args.clients, share, make[kind], first)))
            for group, seconds in meter.seconds().items():
                cpu_seconds[kind][group] = cpu_seconds[kind].get(group, 0.0) + seconds
    for kind in ("baseline", "ingest"):
        combined = Run.combined(runs[kind])
        figures.update(latency_figures(combined, kind))
        figures[f"{kind}_cpu_ms_per_request"] = per_request_ms(cpu_seconds[kind], len(combined.samples))
        if kind == "ingest":
            figures["ingest_statuses"] = combined.statuses()
    figures["ingest_vs_baseline"] = round(figures["ingest_rps"] / figures["baseline_rps"], 3)
    checks["after_ingest"] = check()


def start_settlement_workers(count: int) -> subprocess.Popen:
    return start(
        [
            str(BIN / "celery"),
            "-A",
            "ledgerx",
            "worker",
            "-Q",
            "settlement",
            "-c",
            str(count),
            "--loglevel",
            "warning",
            "-n",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ]
    )


def measure_settlement(args, figures: dict, checks: dict, processes: list[subprocess.Popen], check=verify) -> None:
    """Drain the backlog the ingest phase left, with the workers started only now; then `check` the ledger."""
    from django.db import connection
    from django.utils import timezone

    backlog = pending_count()
    started_at = timezone.now()
    # The workers' CPU includes their start (about the same in every run); PostgreSQL's, the other engineers' too.
    meter = CpuMeter()
    meter.start()
    processes.append(start_settlement_workers(args.settle_workers))
    wait_all_final(timeout=600)
    cpu_seconds = meter.seconds()
    with connection.cursor() as cursor:
        # Only this backlog's: a database may hold a history settled before (bench/growth.py).
        cursor.execute(
            "SELECT count(*), extract(epoch FROM max(processed_at) - min(processed_at)) FROM ledger_transaction"
            " WHERE processed_at >= %s",
            [started_at],
        )
        settled, span = cursor.fetchone()
    figures["settle_backlog"] = backlog
    figures["settle_tps"] = round(settled / max(float(span), 1e-6), 1)
    figures["settle_cpu_ms_per_spend"] = per_request_ms(cpu_seconds, settled)
    checks["after_settle"] = check()

    figures["pg_hot_row_tps"] = round(pgbench_hot_row(args.pgbench_seconds), 1)
    figures["settle_vs_pg_hot_row"] = round(figures["settle_tps"] / figures["pg_hot_row_tps"], 2)


def measure_end_to_end(port: int, tokens: list[str], args, figures: dict, checks: dict) -> None:
    """Submit-to-final latency under a steady open-loop rate, the workers running alongside."""
    from django.db import connection

    sent_at: dict[int, float] = {}
    make_spend = spend_request(tokens, "e2e")

    def timed(index: int):
        sent_at[index] = time.time()
        return make_spend(index)

    meter = CpuMeter()
    meter.start()
    e2e = asyncio.run(open_loop("127.0.0.1", port, args.e2e_rate, args.e2e_seconds, timed))
    wait_all_final(timeout=120)
    figures["e2e_cpu_ms_per_spend"] = per_request_ms(meter.seconds(), len(e2e.samples))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT idempotency_key, extract(epoch FROM created_at), extract(epoch FROM processed_at)"
            " FROM ledger_transaction WHERE idempotency_key LIKE 'e2e-%%'"
        )
        rows = cursor.fetchall()
    finals = [(float(done) - sent_at[int(key.split("-")[1])]) * 1000 for key, _, done in rows]
    settling = [(float(done) - float(created)) * 1000 for _, created, done in rows]
    figures["e2e_rate"] = args.e2e_rate
    figures["e2e_achieved_rps"] = round(len(e2e.samples) / e2e.seconds, 1)
    figures["e2e_statuses"] = e2e.statuses()
    figures["e2e_p50_ms"] = round(percentile(finals, 0.50), 1)
    figures["e2e_p99_ms"] = round(percentile(finals, 0.99), 1)
    # Where the time went: answering the POST (the web tier), and from acceptance to final.
    accepting = [sample.latency_ms for sample in e2e.samples]
    figures["e2e_accept_p50_ms"] = round(percentile(accepting, 0.50), 1)
    figures["e2e_accept_p99_ms"] = round(percentile(accepting, 0.99), 1)
    figures["e2e_settle_p50_ms"] = round(percentile(settling, 0.50), 1)
    figures["e2e_settle_p99_ms"] = round(percentile(settling, 0.99), 1)
    checks["after_e2e"] = verify()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--baseline-requests", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--e2e-rate", type=float, default=500)
    parser.add_argument("--e2e-seconds", type=float, default=20)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--settle-workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="alternating baseline and ingest rounds")
    parser.add_argument(
        "--ingest-only", action="store_true", help="stop after the baseline and ingest phases (and the bulk phase)"
    )
    parser.add_argument("--bulk-batches", type=int, default=40, help="batches in the bulk phase (0: no bulk phase)")
    parser.add_argument("--bulk-size", type=int, default=1000, help="spends per batch")
    parser.add_argument("--bulk-clients", type=int, default=4, help="clients sending batches")
    parser.add_argument("--bulk-single-requests", type=int, default=8_000, help="single POSTs the bulk phase compares")
    parser.add_argument(
        "--spend-policies", type=int, default=0, help="active spend rules (0-10) that every spend is decided against"
    )
    # --balance-entries N: instead of the phases above, balances at an instant on a ledger of N entries.
    balances.add_arguments(parser, prefix="balance-", entries_default=None)
    args = parser.parse_args()
    if args.balance_entries:
        measure_balances(args)
        return

    recreate_database()
    setup_django()
    _, tokens = seed(args.clients, args.spend_policies)

    port = free_port()
    processes = [start(WEB_SERVER, port)]
    figures: dict = {
        "cores": os.cpu_count(),
        "clients": args.clients,
        "load_generator": "asyncio, same machine",
        "server": "granian",
        "spend_policies": args.spend_policies,
    }
    checks: dict = {}
    try:
        wait_http(port)
        measure_ingest(port, tokens, args, figures, checks)
        if not args.ingest_only:
            measure_settlement(args, figures, checks, processes)
            measure_end_to_end(port, tokens, args, figures, checks)
        if args.bulk_batches:
            # With the settlement workers running (after the end-to-end phase), as in production.
            verify_bulk = verify if args.ingest_only else verify_settled
            measure_bulk(port, tokens, args, figures, checks, spend_request, verify_bulk)
    finally:
        for process in processes:
            stop(process)
    report(figures, checks)


def measure_balances(args) -> None:
    figures = balances.run(
        entries=args.balance_entries,
        accounts=args.balance_accounts,
        every_hours=args.balance_every_hours,
        queries=args.balance_queries,
        summed=args.balance_summed,
        reuse=False,
    )
    print(json.dumps(figures, indent=2))
    # Named apart from the throughput run's figures in the shared history.
    benchmarks_csv_append(run_row("balances", {f"balance_{name}": value for name, value in figures.items()}))


def report(figures: dict, checks: dict) -> None:
    figures["verify_ledger"] = "clean" if all(checks.values()) else f"PROBLEMS {checks}"

    print(json.dumps(figures, indent=2))
    print(f"\n{'figure':<24} value")
    for name, value in figures.items():
        print(f"{name:<24} {value}")
    benchmarks_csv_append(run_row("bench", figures))
    if not all(checks.values()):
        raise SystemExit(1)


# One row per run of `make bench` or `make spike`, appended; docs/benchmarks.md says what the columns mean.
BENCHMARKS_CSV = ROOT / "docs" / "benchmarks.csv"
RUN_COLUMNS = ("run_at", "kind", "commit", "label")


def flatten_figures(figures: dict, prefix: str = "") -> dict:
    """Nested figures as flat columns: {"ingest_statuses": {"202": 5}} becomes {"ingest_statuses.202": 5}."""
    flat: dict = {}
    for name, value in figures.items():
        if isinstance(value, dict):
            flat.update(flatten_figures(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def code_version() -> str:
    """The commit measured, "-dirty" when the tree has changes; empty outside a git checkout."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return described.stdout.strip()


def run_row(kind: str, figures: dict, *, run_at: datetime | None = None) -> dict:
    """A row of docs/benchmarks.csv. BENCH_LABEL names what sets the run apart (a setting tried, say)."""
    return {
        "run_at": (run_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kind": kind,
        "commit": code_version(),
        "label": os.environ.get("BENCH_LABEL", ""),
        **flatten_figures(figures),
    }


def benchmarks_csv_append(row: dict, path: Path = BENCHMARKS_CSV) -> None:
    """Append `row`; a figure no earlier run had adds a column (the file is rewritten, earlier rows blank there)."""
    header: list[str] = list(RUN_COLUMNS)
    rows: list[dict] = []
    if path.exists():
        with path.open(newline="") as existing:
            reader = csv.DictReader(existing)
            header = list(reader.fieldnames or header)
            rows = list(reader)
    added = [name for name in row if name not in header]
    if path.exists() and not added:
        with path.open("a", newline="") as history:
            csv.DictWriter(history, fieldnames=header).writerow(row)
        return
    with path.open("w", newline="") as history:
        writer = csv.DictWriter(history, fieldnames=header + added)
        writer.writeheader()
        writer.writerows([*rows, row])


if __name__ == "__main__":
    main()
