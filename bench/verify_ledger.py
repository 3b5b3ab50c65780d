"""How long verify_ledger takes per million entries, full and incremental, and whether settlement waits for it.

    .venv/bin/python -m bench.verify_ledger [--spends 500000] [--reuse]

Builds a synthetic ledger in a scratch database of its own (generate_series, as the owner): one
organization, `--spends` posted spends of two entries each, its budget period, all sealed by the
real sealer (which writes the checkpoint). Then times `ledger_verify` in full and incrementally,
and settles spends one at a time while a full run is in progress, timing each.
"""

import argparse
import os
import threading
import time

import psycopg

from apps.ledger.ids import transaction_id_sql

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCRATCH_DB = "ledgerx_verify_bench"
OWNER_URL = f"postgresql://postgres@127.0.0.1:5432/{SCRATCH_DB}"
ENV = {
    "DATABASE_URL": OWNER_URL,
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    "SECRET_KEY": "ledgerx-bench-secret-key-for-a-throwaway-database",
    "DJANGO_SETTINGS_MODULE": "ledgerx.settings.bench",
}

# Spend i a microsecond after spend i - 1, an hour ago; its id a UUIDv7 of that time (apps/ledger/ids.py).
_SPEND_AT = "now() - interval '1 hour' + i * interval '1 us'"
SPENDS_SQL = f"""
INSERT INTO ledger_transaction (id, organization_id, kind, status, amount_minor, currency, original_amount_minor,
    original_currency, fx_rate, merchant, category, description, department_id, employee_id, created_by_id,
    budget_month, idempotency_key, request_fingerprint, created_at, processed_at, rejection_reason, reason)
SELECT {transaction_id_sql(_SPEND_AT)}, %(organization)s, 'spend', 'posted', 100 + i %% 900, 'USD', 100 + i %% 900,
    'USD', 1, 'Bench', 'equipment', '',
    %(department)s, %(user)s, %(user)s, %(month)s, 'bench-' || i, 'bench',
    {_SPEND_AT}, now(), '', ''
FROM generate_series(1, %(spends)s) i
"""  # noqa: S608 - the id's SQL is apps/ledger/ids.py's, not input
ENTRIES_SQL = """
INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
SELECT t.organization_id, t.id, leg.account, leg.sign * t.amount_minor, 'USD', t.created_at
FROM ledger_transaction t CROSS JOIN (VALUES (%(card)s::uuid, -1), (%(expense)s::uuid, 1)) leg(account, sign)
WHERE t.organization_id = %(organization)s
ORDER BY t.created_at, leg.sign
"""

# What the spend policy's tallies count of those spends, as settlement would have kept them.
TALLIES_SQL = """
INSERT INTO controls_spendtally (organization_id, employee_id, department_id, category, day, month, amount_minor)
SELECT t.organization_id, t.employee_id, t.department_id, t.category, (t.created_at AT TIME ZONE o.timezone)::date,
    t.budget_month, sum(t.amount_minor)
FROM ledger_transaction t JOIN tenancy_organization o ON o.id = t.organization_id
WHERE t.organization_id = %(organization)s
GROUP BY 1, 2, 3, 4, 5, 6
"""


def setup() -> None:
    os.environ.update(ENV)
    import django

    django.setup()


def build(spends: int) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SCRATCH_DB}")
    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from apps.budgets.totals import budget_periods_open
    from apps.ledger.models import Account
    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import Role, User
    from ledgerx.months import month_start

    organization = tenancy_services.organization_create(name="Bench Corp", currency="USD")
    department = tenancy_services.department_create(
        organization=organization, name="Everything", monthly_limit_minor=10**15, actor=None
    )
    user = User.objects.create_user(
        "bench@example.com", "bench-password-1", role=Role.EMPLOYEE, organization=organization, department=department
    )
    month = month_start(timezone.now(), organization.timezone)
    budget_periods_open(department_ids=[department.id], month=month)
    card = Account.objects.get(organization=organization, kind=Account.Kind.CARD_FUNDING)
    params = {
        "organization": organization.id,
        "department": department.id,
        "user": user.id,
        "month": month,
        "spends": spends,
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
        owner.execute(
            "UPDATE budgets_budgetperiod SET spent_minor = (SELECT sum(amount_minor) FROM ledger_transaction)"
            " WHERE department_id = %s AND month = %s",
            [department.id, month],
        )
        owner.execute(TALLIES_SQL, params)
        owner.execute("VACUUM ANALYZE")
    print(f"built {2 * spends} entries in {time.monotonic() - started:.1f}s")

    from apps.ledger.chain import ledger_seal_all

    started = time.monotonic()
    sealed = ledger_seal_all()
    print(f"sealed {sealed} entries in {time.monotonic() - started:.1f}s")


def settle_during(run) -> list[float]:
    """Settle one spend at a time while `run` verifies in another thread; each settlement's seconds."""
    from django.db import connections

    from apps.spending import services
    from apps.tenancy.models import User

    user = User.objects.get(email="bench@example.com")
    done = threading.Event()

    def verify() -> None:
        try:
            run()
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=verify)
    thread.start()
    latencies: list[float] = []
    index = 0
    while not done.is_set() or not latencies:
        index += 1
        started = time.monotonic()
        services.transaction_submit(
            user=user, idempotency_key=f"during-{index}", amount="1.00", currency="USD", merchant="M", category="c"
        )
        services.settlement_run(organization_id=user.organization_id)
        latencies.append(time.monotonic() - started)
    thread.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spends", type=int, default=500_000, help="posted spends (two entries each)")
    parser.add_argument("--reuse", action="store_true", help="time the ledger the last run built")
    arguments = parser.parse_args()
    if arguments.reuse:
        setup()
        from apps.ledger.chain import ledger_seal_all

        ledger_seal_all()  # what the last run settled during its verification
    else:
        build(arguments.spends)

    from apps.ledger.models import Entry
    from apps.ledger.verification import ledger_verify

    entries = Entry.objects.count()
    for incremental in (False, True):
        started = time.monotonic()
        report = ledger_verify(incremental=incremental)
        elapsed = time.monotonic() - started
        assert report["ok"], report["problems"][:5]
        print(
            f"{'incremental' if incremental else 'full'}: {elapsed:.1f}s for {entries} entries, "
            f"{elapsed * 1_000_000 / entries:.1f}s per million; checked {report['checked']}"
        )
    latencies = settle_during(lambda: ledger_verify())
    print(
        f"settled {len(latencies)} spends one at a time during a full run: "
        f"slowest {max(latencies) * 1000:.0f} ms, median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
