"""An account's balance at an instant on a large ledger: p95 from the checkpoints against the plain sum.

    .venv/bin/python -m bench.balances [--entries 10000000] [--every-hours 6] [--queries 300] [--reuse]
    (or `make bench BENCH_ARGS="--balance-entries 10000000"`)

Builds a ledger in a scratch database of its own, set-based in SQL as the owner: one organization,
`--accounts` departments, `--entries` entries over the past year in journals of two legs (a department's
expenses against card funding, which so holds half the ledger), dated a little out of id order as
settlement's commits are. Writes the balance checkpoints through the ledger's history as
`manage.py balance_checkpoints --backfill-hours` does, then times `balance_as_of` for random accounts at
random instants, and the plain sum over the entries for some of them, which must agree.
"""

import argparse
import os
import random
import time
from datetime import timedelta

import psycopg

from apps.ledger.ids import transaction_id_sql

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCRATCH_DB = "ledgerx_balance_bench"
OWNER_URL = f"postgresql://postgres@127.0.0.1:5432/{SCRATCH_DB}"
ENV = {
    "DATABASE_URL": OWNER_URL,
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
    "SECRET_KEY": "ledgerx-bench-secret-key-for-a-throwaway-database",
    "DJANGO_SETTINGS_MODULE": "ledgerx.settings.bench",
}
# Journals per transaction row: the entries need real transactions, not one each.
JOURNALS_PER_TRANSACTION = 10_000

TRANSACTIONS_SQL = f"""
INSERT INTO ledger_transaction (id, organization_id, kind, status, amount_minor, currency, original_amount_minor,
    original_currency, fx_rate, merchant, category, description, department_id, employee_id, created_by_id,
    budget_month, idempotency_key, request_fingerprint, created_at, processed_at, rejection_reason, reason)
SELECT {transaction_id_sql("now()")}, %(organization)s, 'spend', 'posted', 1, 'USD', 1, 'USD', 1, 'Bench',
    'equipment', '', %(department)s, %(user)s, %(user)s, %(month)s, 'bench-' || i, 'bench', now(), now(), '', ''
FROM generate_series(1, %(transactions)s) i
"""  # noqa: S608 - the id's SQL is apps/ledger/ids.py's, not input
# Journal i: amount and department drawn from i, dated i steps into the year give or take 50 steps.
ENTRIES_SQL = """
WITH transactions AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ledger_transaction
),
expenses AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ledger_account WHERE kind = 'expense'
),
journals AS (
    SELECT i, 1 + (hashint8(i) & 65535) AS amount, (hashint8(-i) & 1023) %% %(accounts)s AS expense,
           now() - interval '1 year' + (i + (hashint8(i * 7) & 63) - 32) * %(step)s * interval '1 microsecond' AS at
    FROM generate_series(0::bigint, %(journals)s::bigint - 1) i
)
INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
SELECT %(organization)s, t.id, leg.account, leg.sign * j.amount, 'USD', j.at
FROM journals j
JOIN transactions t ON t.n = j.i / %(per_transaction)s
JOIN expenses x ON x.n = j.expense
CROSS JOIN LATERAL (VALUES (x.id, 1), (%(card)s::uuid, -1)) leg(account, sign)
ORDER BY j.i, leg.sign DESC
"""


def setup() -> None:
    os.environ.update(ENV)
    import django

    django.setup()


def build(*, entries: int, accounts: int) -> dict:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SCRATCH_DB}")
    setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.utils import timezone

    from apps.ledger.models import Account
    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import Role, User

    organization = tenancy_services.organization_create(name="Bench Corp", currency="USD")
    departments = [
        tenancy_services.department_create(
            organization=organization, name=f"Department {n}", monthly_limit_minor=10**15, actor=None
        )
        for n in range(accounts)
    ]
    user = User.objects.create_user(
        "bench@example.com",
        "bench-password-1",
        role=Role.EMPLOYEE,
        organization=organization,
        department=departments[0],
    )
    journals = entries // 2
    params = {
        "organization": organization.id,
        "department": departments[0].id,
        "user": user.id,
        "month": timezone.now().date().replace(day=1),
        "transactions": journals // JOURNALS_PER_TRANSACTION + 1,
        "per_transaction": JOURNALS_PER_TRANSACTION,
        "journals": journals,
        "accounts": accounts,
        "step": int(timedelta(days=365).total_seconds() * 1_000_000 // journals),
        "card": Account.objects.get(organization=organization, kind=Account.Kind.CARD_FUNDING).id,
    }
    started = time.monotonic()
    with psycopg.connect(OWNER_URL, autocommit=True) as owner:
        # Balanced by construction (each transaction's journals sum to zero); the per-row check would only
        # slow the load. The secondary indexes are built once after it, as their migrations define them.
        owner.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_balanced")
        indexes = owner.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ledger_entry'"
            " AND indexname <> 'ledger_entry_pkey'"
        ).fetchall()
        for name, _ in indexes:
            owner.execute(f"DROP INDEX {name}")
        owner.execute(TRANSACTIONS_SQL, params)
        owner.execute(ENTRIES_SQL, params)
        for _, definition in indexes:
            owner.execute(definition)
        owner.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_balanced")
        owner.execute("VACUUM ANALYZE ledger_entry")
    return {"build_seconds": round(time.monotonic() - started, 1)}


def checkpoint(every_hours: float) -> dict:
    from apps.ledger.balance_checkpoints import balance_checkpoints_backfill

    started = time.monotonic()
    written = balance_checkpoints_backfill(every=timedelta(hours=every_hours))
    with psycopg.connect(OWNER_URL, autocommit=True) as owner:
        owner.execute("VACUUM ANALYZE ledger_balancecheckpoint")
    return {"checkpoints": written, "checkpoint_seconds": round(time.monotonic() - started, 1)}


def percentile_ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)


def measure(*, queries: int, summed: int, seed: int) -> dict:
    from django.utils import timezone

    from apps.ledger.balances import balance_as_of, balance_summed
    from apps.ledger.models import Account, Entry

    card = Account.objects.get(kind=Account.Kind.CARD_FUNDING).id
    accounts = list(Account.objects.values_list("id", flat=True))
    first = Entry.objects.order_by("created_at").values_list("created_at", flat=True).first()
    span = (timezone.now() - first).total_seconds()
    chosen = random.Random(seed)
    figures: dict = {}
    # Any account, and card funding alone, which holds half the ledger (as an organization's does).
    for label, pick in (("any_account", lambda: chosen.choice(accounts)), ("card_funding", lambda: card)):
        asks = [(pick(), first + timedelta(seconds=chosen.uniform(0, span))) for _ in range(queries)]
        checkpointed: list[float] = []
        plain: list[float] = []
        for index, (account_id, as_of) in enumerate(asks):
            # Which of the two reads first (and finds the pages cold) alternates.
            readers = [(balance_as_of, checkpointed)] + ([(balance_summed, plain)] if index < summed else [])
            answers = []
            for read, times in readers if index % 2 else readers[::-1]:
                started = time.perf_counter()
                answers.append(read(account_id=account_id, as_of=as_of))
                times.append(time.perf_counter() - started)
            assert len(set(answers)) == 1, (account_id, as_of, answers)
        figures[label] = {
            "p50_ms": percentile_ms(checkpointed, 0.5),
            "p95_ms": percentile_ms(checkpointed, 0.95),
            "summed_p50_ms": percentile_ms(plain, 0.5),
            "summed_p95_ms": percentile_ms(plain, 0.95),
        }
    figures["queries"] = queries
    figures["summed_queries"] = summed
    return figures


def run(*, entries: int, accounts: int, every_hours: float, queries: int, summed: int, reuse: bool) -> dict:
    figures: dict = {"entries": entries, "accounts": accounts + 1, "checkpoint_every_hours": every_hours}
    if reuse:
        setup()
        from apps.ledger.models import Entry

        figures["entries"] = Entry.objects.count()
    else:
        figures.update(build(entries=entries, accounts=accounts))
        figures.update(checkpoint(every_hours))
    figures.update(measure(queries=queries, summed=summed, seed=entries))
    return figures


def add_arguments(parser: argparse.ArgumentParser, prefix: str = "", entries_default: int | None = 10_000_000) -> None:
    """The options, also under `prefix` in `python -m bench.run`, where giving the entries runs this instead."""
    parser.add_argument(f"--{prefix}entries", type=int, default=entries_default, help="ledger entries to build")
    parser.add_argument(f"--{prefix}accounts", type=int, default=50, help="expense accounts (departments)")
    parser.add_argument(f"--{prefix}every-hours", type=float, default=6, help="hours between checkpoints")
    parser.add_argument(f"--{prefix}queries", type=int, default=300, help="balances asked from the checkpoints")
    parser.add_argument(f"--{prefix}summed", type=int, default=40, help="of those, how many also summed plainly")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--reuse", action="store_true", help="measure the ledger the last run built")
    arguments = parser.parse_args()
    figures = run(
        entries=arguments.entries,
        accounts=arguments.accounts,
        every_hours=arguments.every_hours,
        queries=arguments.queries,
        summed=arguments.summed,
        reuse=arguments.reuse,
    )
    for name, value in figures.items():
        print(f"{name:<24} {value}")


if __name__ == "__main__":
    main()
