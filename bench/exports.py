"""The books export of a month of up to a million journal lines: time, and peak memory as the file grows.

    .venv/bin/python -m bench.exports [--lines 100000 500000 1000000] [--formats csv xlsx] [--reuse]

Builds a scratch database of its own with one organization per size, each with that many journal
lines (two per posted spend, GL codes and cost centres filled) in one closed month, set-based in SQL
(generate_series, as the owner). Then exports each organization's month through apps/exports'
writers in a fresh process per export, so that the peak resident memory (ru_maxrss) is the export's
alone: the process resets its peak (VmHWM, /proc/self/clear_refs) when the export begins and reports it
beside its resident memory at that moment. CSV is streamed
into SHA-256 (what the sidecar does; no disk), XLSX is written to its temporary file as the API does.
Appends one row per run to docs/benchmarks.csv (kind "exports").
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date

import psycopg

from apps.ledger.ids import transaction_id_sql
from bench.run import benchmarks_csv_append, run_row

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCRATCH_DB = "ledgerx_exports_bench"
OWNER_URL = f"postgresql://postgres@127.0.0.1:5432/{SCRATCH_DB}"
ENV = {
    "DATABASE_URL": OWNER_URL,
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    "SECRET_KEY": "ledgerx-bench-secret-key-for-a-throwaway-database",
    "DJANGO_SETTINGS_MODULE": "ledgerx.settings.bench",
}
# A closed month, the same in every run, so the files compare across runs.
MONTH = date(2026, 11, 1)

# Spend i dated i steps into the month's first 29 days; its id a UUIDv7 of that time (apps/ledger/ids.py).
_SPEND_AT = "%(month)s::timestamptz + (i - 1) * (interval '29 days' / %(spends)s)"
SPENDS_SQL = f"""
INSERT INTO ledger_transaction (id, organization_id, kind, status, amount_minor, currency, original_amount_minor,
    original_currency, fx_rate, merchant, category, description, department_id, employee_id, created_by_id,
    budget_month, idempotency_key, request_fingerprint, created_at, processed_at, rejection_reason, reason)
SELECT {transaction_id_sql(_SPEND_AT)}, %(organization)s, 'spend', 'posted', 100 + i %% 90000, 'USD',
    100 + i %% 90000, 'USD', 1,
    'Merchant ' || (i %% 997), 'equipment', CASE WHEN i %% 3 = 0 THEN 'Team offsite, day ' || (i %% 5) ELSE '' END,
    %(department)s, %(user)s, %(user)s, %(month)s, 'bench-' || i, 'bench',
    {_SPEND_AT}, %(month)s::timestamptz, '', ''
FROM generate_series(1, %(spends)s) i
"""  # noqa: S608 - the id's SQL is apps/ledger/ids.py's, not input
ENTRIES_SQL = """
INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at,
    gl_code, cost_centre)
SELECT t.organization_id, t.id, leg.account, leg.sign * t.amount_minor, 'USD', t.created_at, leg.gl_code,
    CASE WHEN leg.sign = 1 THEN 'CC' || (t.amount_minor %% 12) ELSE '' END
FROM ledger_transaction t
CROSS JOIN (VALUES (%(expense)s::uuid, 1, '6000'), (%(card)s::uuid, -1, '2100')) leg(account, sign, gl_code)
WHERE t.organization_id = %(organization)s
ORDER BY t.created_at, leg.sign DESC
"""


def setup() -> None:
    os.environ.update(ENV)
    import django

    django.setup()


def build(sizes: list[int]) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SCRATCH_DB}")
    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from apps.ledger.models import Account
    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import Role, User

    for lines in sizes:
        organization = tenancy_services.organization_create(name=f"Bench {lines}", currency="USD")
        department = tenancy_services.department_create(
            organization=organization, name="Everything", monthly_limit_minor=10**15, actor=None
        )
        user = User.objects.create_user(
            f"bench{lines}@example.com", "bench-password-1", role=Role.EMPLOYEE, organization=organization
        )
        card = Account.objects.get(organization=organization, kind=Account.Kind.CARD_FUNDING)
        params = {
            "organization": organization.id,
            "department": department.id,
            "user": user.id,
            "month": MONTH,
            "spends": lines // 2,
            "card": card.id,
            "expense": department.expense_account.id,
        }
        started = time.monotonic()
        with psycopg.connect(OWNER_URL, autocommit=True) as owner:
            # Balanced by construction; the per-row check would only slow the load.
            owner.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_balanced")
            owner.execute(SPENDS_SQL, params)
            owner.execute(ENTRIES_SQL, params)
            owner.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_balanced")
        print(f"built {lines} journal lines ({organization.slug}) in {time.monotonic() - started:.1f}s", flush=True)
    with psycopg.connect(OWNER_URL, autocommit=True) as owner:
        owner.execute("VACUUM ANALYZE")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(f"{field}:"))


def child(slug: str, kind: str, file_format: str) -> None:
    """One export in this process; prints its figures as JSON."""
    setup()
    from apps.exports.exporting import export_define, export_sha256
    from apps.tenancy.models import Organization

    organization = Organization.objects.get(slug=slug)
    export = export_define(organization=organization, kind=kind, month=MONTH.strftime("%Y-%m"), file_format=file_format)
    # Reset the peak (VmHWM) to the resident memory now, so the peak read after is the export's own.
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _status_kib("VmRSS")
    started = time.monotonic()
    digest = export_sha256(export)
    elapsed = time.monotonic() - started
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "seconds": round(elapsed, 1),
                "rss_before_mib": round(before / 1024),
                "peak_rss_mib": round(peak / 1024),
                "sha256": digest,
            }
        )
    )


def measure(lines: int, kind: str, file_format: str) -> dict:
    command = [sys.executable, "-m", "bench.exports", "--child", f"bench-{lines}", kind, file_format]
    finished = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, **ENV})
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 500_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument("--kind", default="journal", help="the export measured (journal, quickbooks, xero, ...)")
    parser.add_argument("--reuse", action="store_true", help="export the organizations the last run built")
    parser.add_argument("--child", nargs=3, metavar=("SLUG", "KIND", "FORMAT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    if not arguments.reuse:
        build(arguments.lines)
    figures: dict = {"cores": os.cpu_count(), "export_kind": arguments.kind}
    print(f"{'lines':>10} {'format':>6} {'seconds':>8} {'lines/s':>9} {'RSS before':>11} {'peak RSS':>9}")
    for file_format in arguments.formats:
        for lines in arguments.lines:
            result = measure(lines, arguments.kind, file_format)
            rate = lines / result["seconds"] if result["seconds"] else 0
            print(
                f"{lines:>10} {file_format:>6} {result['seconds']:>8} {rate:>9.0f} "
                f"{result['rss_before_mib']:>8} MiB {result['peak_rss_mib']:>5} MiB",
                flush=True,
            )
            name = f"export_{file_format}_{lines // 1000}k"
            figures[f"{name}_seconds"] = result["seconds"]
            figures[f"{name}_peak_rss_mib"] = result["peak_rss_mib"]
            figures[f"{name}_rss_before_mib"] = result["rss_before_mib"]
    benchmarks_csv_append(run_row("exports", figures))


if __name__ == "__main__":
    main()
