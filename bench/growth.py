"""`make bench-growth`: LedgerX with a year of data for 1,000 organizations, against an almost empty database.

    .venv/bin/python -m bench.growth [--organizations 1000] [--entries 10000000] [--reuse] [--rounds 2]

Builds two scratch databases of its own with one generator (`generate` below): `ledgerx_growth_bench`, a
year of spend for `--organizations` organizations (departments, employees, a finance manager, posted
spends, their ledger entries, budget periods, spend tallies, the hash chain's seals and checkpoints, the
balance checkpoints; `--entries` entries in all), and `ledgerx_growth_empty`, the first of those
organizations alone (its year, the same size). Both verify. `verify_ledger` in full is timed on each
(its passing run the verified point the incremental run resumes from). Then, in each, in turns that
alternate between the two so that the machine's drift falls on both alike:

- the finance dashboard API (`/api/v1/reports/dashboard`) and ten typical NLQ questions (the rules
  parser: no GEMINI_API_KEY) for the first organization's finance manager, through the web server: p95;
- baseline, ingest and settlement of a fresh organization, as `make bench` measures them (bench/run.py);
- the journal export (CSV) of the first organization's last whole month;

then a spend settled in every organization (a day's writes touch them all), `verify_ledger --incremental`
on each, and the database's size per million entries.
Prints a table and JSON, appends one row (kind "growth") to docs/benchmarks.csv. GROWTH_BENCH_DB and
GROWTH_EMPTY_DB name other databases; the servers flush Redis db 12 (BENCH_REDIS_URL names another).
"""

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

from apps.ledger.ids import transaction_id_sql

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
GROWTH_DB = os.environ.get("GROWTH_BENCH_DB", "ledgerx_growth_bench")
EMPTY_DB = os.environ.get("GROWTH_EMPTY_DB", "ledgerx_growth_empty")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

DEPARTMENTS = ["Sales", "Engineering", "Marketing", "Operations", "Finance", "Support", "Legal", "Research"]
CATEGORIES = ["travel", "meals", "software", "equipment", "office supplies", "lodging"]
MERCHANTS = [
    "Delta Air Lines", "United Airlines", "Marriott", "Hilton", "Uber", "Lyft", "AWS", "Salesforce",
    "Slack", "Staples", "Amazon", "Dell", "Apple", "Starbucks", "Chipotle", "Zoom",
]  # fmt: skip
# What a finance manager asks (apps/nlq/GRAMMAR.md), naming the generator's departments, categories, merchants.
QUESTIONS = [
    "How much did Sales spend last month?",
    "How much did Engineering spend on travel this quarter?",
    "top 5 merchants this year",
    "spend by department last month",
    "spend by category this year",
    "monthly burn over the last 12 months",
    "who are the top spenders this month",
    "Which departments are over 80% of budget?",
    "average spend per transaction last quarter",
    "how many times did we spend at Delta last month",
]


def organization_name(index: int) -> str:
    return f"Growth {index:04d}"


def finance_email(index: int) -> str:
    return f"finance@growth{index:04d}.example"


# The generator. Its SQL names tables through the models' db_table, so a renamed or partitioned table
# needs no change here; columns are the models' own.


def _tables() -> dict[str, str]:
    from apps.budgets.models import BudgetPeriod
    from apps.controls.models import SpendTally
    from apps.ledger.models import Entry, Transaction
    from apps.tenancy.models import Organization

    return {
        "transaction": Transaction._meta.db_table,
        "entry": Entry._meta.db_table,
        "budget_period": BudgetPeriod._meta.db_table,
        "tally": SpendTally._meta.db_table,
        "organization": Organization._meta.db_table,
    }


# Spend n of every generated organization whose n is in [first, last): dated n slots into the year (one
# slot a spend, a hashed place in it), drawn by its employee (and so department), merchant, category and
# amount from hashes of n and the organization, settled a second later; its journal of two entries, as
# settlement writes it (the department's expenses debited, card funding credited, dated when settled).
# One statement a chunk of slots, so entry ids rise with time across organizations as settlement's do; each
# spend's id is a UUIDv7 of its created_at, as the product's are of the time they are written (apps/ledger/ids.py).
_SPENDS_SQL = """
WITH drawn AS (
    SELECT o.id AS organization_id, n, o.timezone,
           %(start)s::timestamptz + (n + (abs(hashint8(n * 7919 + o.position)::bigint) %% 1000) / 1000.0) * %(slot)s
               AS at,
           500 + abs(hashint8(n * 1009 + o.position)::bigint) %% 150000 AS amount,
           abs(hashint8(n * 31 + o.position * 7)::bigint) %% %(employees)s AS employee_slot,
           abs(hashint8(n * 17 + o.position)::bigint) %% cardinality(%(merchants)s::text[]) AS merchant,
           abs(hashint8(n * 13 + o.position * 3)::bigint) %% cardinality(%(categories)s::text[]) AS category
    FROM growth_organizations o CROSS JOIN generate_series(%(first)s::bigint, %(last)s::bigint - 1) n
),
spends AS (
    INSERT INTO {transaction} (id, organization_id, kind, status, amount_minor, currency, original_amount_minor,
        original_currency, fx_rate, merchant, category, description, department_id, employee_id, created_by_id,
        budget_month, idempotency_key, request_fingerprint, created_at, processed_at, rejection_reason, reason)
    SELECT {transaction_id}, d.organization_id, 'spend', 'posted', d.amount, %(currency)s, d.amount, %(currency)s, 1,
        (%(merchants)s::text[])[1 + d.merchant], (%(categories)s::text[])[1 + d.category], '', s.department_id,
        s.employee_id, s.employee_id, date_trunc('month', d.at AT TIME ZONE d.timezone)::date, 'growth-' || d.n,
        'growth', d.at, d.at + interval '1 second', '', ''
    FROM drawn d JOIN growth_spenders s ON s.organization_id = d.organization_id AND s.slot = d.employee_slot
    ORDER BY d.at
    RETURNING id, organization_id, department_id, amount_minor, currency, processed_at
)
INSERT INTO {entry} (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
SELECT t.organization_id, t.id, leg.account_id, leg.sign * t.amount_minor, t.currency, t.processed_at
FROM spends t
JOIN growth_departments x ON x.id = t.department_id
JOIN growth_organizations o ON o.id = t.organization_id
CROSS JOIN LATERAL (VALUES (x.expense_account_id, 1), (o.card_account_id, -1)) leg(account_id, sign)
ORDER BY t.processed_at, t.id, leg.sign DESC
"""

# Each department's spent per month, as settlement keeps it: the sum of its expense entries by budget month.
_BUDGETS_SQL = """
UPDATE {budget_period} p SET spent_minor = spent.total, updated_at = now()
FROM (
    SELECT t.department_id, t.budget_month, sum(e.amount_minor) AS total
    FROM {entry} e JOIN {transaction} t ON t.id = e.transaction_id
    JOIN growth_departments x ON x.expense_account_id = e.account_id
    GROUP BY 1, 2
) spent
WHERE p.department_id = spent.department_id AND p.month = spent.budget_month
"""

# What the spend policy's tallies count of those spends, as settlement would have kept them.
_TALLIES_SQL = """
INSERT INTO {tally} (organization_id, employee_id, department_id, category, day, month, amount_minor)
SELECT t.organization_id, t.employee_id, t.department_id, t.category, (t.created_at AT TIME ZONE o.timezone)::date,
    t.budget_month, sum(t.amount_minor)
FROM {transaction} t JOIN growth_organizations o ON o.id = t.organization_id
GROUP BY 1, 2, 3, 4, 5, 6
"""


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """The table's indexes that back no constraint: dropped for a bulk load and built again after it."""
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = %s::regclass AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid)",
        [table],
    )
    # A partitioned table's index is defined ON ONLY the parent; built again, it must reach every partition.
    return [(name, definition.replace(" ON ONLY ", " ON ", 1)) for name, definition in cursor.fetchall()]


def _people(*, organizations: int, departments: int, employees: int, position_offset: int) -> list:
    """The organizations, each with its departments (and their expense accounts), employees and finance
    manager, through the product's own services (about 35 ms each on the 2-core machine)."""
    from django.contrib.auth.hashers import make_password

    from apps.ledger.models import Account
    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import Role, User

    unusable = make_password(None)
    made = []
    for position in range(position_offset, position_offset + organizations):
        organization = tenancy_services.organization_create(name=organization_name(position), currency="USD")
        units = [
            tenancy_services.department_create(
                organization=organization, name=name, monthly_limit_minor=10**12, actor=None
            )
            for name in DEPARTMENTS[:departments]
        ]
        staff = User.objects.bulk_create(
            [
                User(
                    email=f"employee{slot}@growth{position:04d}.example",
                    password=unusable,
                    role=Role.EMPLOYEE,
                    organization=organization,
                    department=units[slot % departments],
                )
                for slot in range(employees)
            ]
            + [
                User(
                    email=finance_email(position),
                    password=unusable,
                    role=Role.FINANCE_MANAGER,
                    organization=organization,
                )
            ]
        )
        expense = dict(Account.objects.filter(department__in=units).values_list("department_id", "id"))
        card = Account.objects.get(organization=organization, kind=Account.Kind.CARD_FUNDING).id
        made.append(
            (
                (organization.id, position, organization.timezone, card),
                [(organization.id, slot, user.id, user.department_id) for slot, user in enumerate(staff[:employees])],
                list(expense.items()),
            )
        )
    return made


def _chain(cursor, organization_ids: set, *, checkpoint_links: int, batch: int, progress) -> int:
    """Seal every entry of `organization_ids` into its organization's hash chain, and sign checkpoints.

    Our own code rather than the sealer's (apps/ledger/chain.py ledger_seal_all), which seals 5,000 links a
    transaction through json_to_recordset and took 368 s a million entries (docs/benchmarks.md): here
    the links are the same (the payload text read from PostgreSQL with LEDGER_CHAIN.payload, hashed by
    hash_chain.link_hash, in id order per organization) and written with COPY, a range of ids at a time.
    The checkpoints are the product's checkpoint_write, every `checkpoint_links` links and at each head.
    A new ledger's entries are all live: they are read from, and their seals written to, the live tables.
    """
    from django.utils import timezone

    from apps.ledger.chain import LEDGER_CHAIN
    from ledgerx.chain_checkpoints import checkpoint_write
    from ledgerx.hash_chain import GENESIS_HASH, link_hash

    chain = LEDGER_CHAIN
    heads = dict.fromkeys(organization_ids, (0, GENESIS_HASH))
    checkpoints: list[tuple] = []
    sealed_at = timezone.now()
    after = 0
    while True:
        cursor.execute(
            f"SELECT {chain.key}, r.id, concat_ws('|', {chain.payload}) FROM {chain.live_rows} r"  # noqa: S608 - the chain's constants
            " WHERE r.id > %s ORDER BY r.id LIMIT %s",
            [after, batch],
        )
        rows = cursor.fetchall()
        if not rows:
            break
        after = rows[-1][1]
        seals = []
        for organization_id, row_id, payload in rows:
            if organization_id not in heads:
                continue
            sequence, prev_hash = heads[organization_id]
            sequence += 1
            hash_ = link_hash(prev_hash=prev_hash, sequence=sequence, payload=payload)
            seals.append((organization_id, sequence, row_id, prev_hash, hash_, sealed_at))
            heads[organization_id] = (sequence, hash_)
            if sequence % checkpoint_links == 0:
                checkpoints.append((organization_id, sequence, hash_))
        with cursor.copy(
            f"COPY {chain.live_seals} (organization_id, sequence, {chain.link}, prev_hash, hash, sealed_at) FROM STDIN"
        ) as copy:
            for seal in seals:
                copy.write_row(seal)
        progress(f"sealed entries up to id {after}")
    checkpoints += [(organization_id, sequence, hash_) for organization_id, (sequence, hash_) in heads.items()]
    checkpoints.sort(key=lambda checkpoint: (str(checkpoint[0]), checkpoint[1]))
    for organization_id, sequence, hash_ in checkpoints:
        checkpoint_write(chain, organization_id=organization_id, sequence=sequence, head_hash=hash_)
    return sum(sequence for sequence, _ in heads.values())


def generate(
    owner: psycopg.Connection,
    *,
    organizations: int,
    entries: int,
    departments: int = 4,
    employees: int = 12,
    days: int = 365,
    checkpoint_days: float = 7,
    checkpoint_links: int = 1000,
    bulk: bool = False,
    position_offset: int = 0,
    progress=print,
) -> dict:
    """A year (`days`) of posted spends for `organizations` new organizations, `entries` ledger entries in
    all, as settlement, the sealer and the checkpoint writer would have left them: `verify_ledger` accepts
    it. The people through Django and the product's services; the spends set-based in SQL on `owner` (an
    autocommit connection to the same database as its owner), one statement a chunk of days for all
    organizations.

    `bulk` (a scratch database) drops the entries' and transactions' secondary indexes and
    disables the per-row journal-balance trigger (ledger_entry_balanced; every journal here is two equal
    legs) for the load, builds and enables them again after it, and vacuums: verify_ledger then checks
    that the trigger is back as installed. Without it (a test) nothing is turned off.
    """
    from apps.budgets.totals import budget_periods_open
    from apps.ledger.balance_checkpoints import balance_checkpoints_backfill
    from apps.tenancy.models import Organization

    started = time.monotonic()
    figures: dict = {}

    def step(name: str, since: float) -> float:
        figures[f"{name}_seconds"] = round(time.monotonic() - since, 1)
        progress(f"{name}: {figures[f'{name}_seconds']} s")
        return time.monotonic()

    tables = _tables()
    made = _people(
        organizations=organizations, departments=departments, employees=employees, position_offset=position_offset
    )
    mark = step("organizations", started)
    spends_per_organization = max(entries // 2 // organizations, 1)
    with owner.cursor() as cursor:
        cursor.execute("SELECT date_trunc('hour', now()) - interval '1 hour'")
        (finish,) = cursor.fetchone()
        start = finish - timedelta(days=days)
        # What the statements below draw from: the organizations, their employees by slot, the departments.
        cursor.execute(
            "CREATE TEMPORARY TABLE growth_organizations (id uuid PRIMARY KEY, position int, timezone text,"
            " card_account_id uuid)"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE growth_spenders (organization_id uuid, slot int, employee_id uuid,"
            " department_id uuid, PRIMARY KEY (organization_id, slot))"
        )
        cursor.execute("CREATE TEMPORARY TABLE growth_departments (id uuid PRIMARY KEY, expense_account_id uuid)")
        with cursor.copy("COPY growth_organizations FROM STDIN") as copy:
            for organization, _, _ in made:
                copy.write_row(organization)
        with cursor.copy("COPY growth_spenders FROM STDIN") as copy:
            for _, spenders, _ in made:
                for spender in spenders:
                    copy.write_row(spender)
        with cursor.copy("COPY growth_departments FROM STDIN") as copy:
            for _, _, units in made:
                for unit in units:
                    copy.write_row(unit)
        for table in ("growth_organizations", "growth_spenders", "growth_departments"):
            cursor.execute(f"ANALYZE {table}")

        dropped: list[tuple[str, str]] = []
        if bulk:
            # The tallies' GROUP BY of millions of spends and the index builds sort in memory, not on disk.
            cursor.execute("SET work_mem = '256MB'")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute(f"ALTER TABLE {tables['entry']} DISABLE TRIGGER ledger_entry_balanced")
            for table in (tables["entry"], tables["transaction"]):
                for name, definition in _secondary_indexes(cursor, table):
                    cursor.execute(f"DROP INDEX {name}")
                    dropped.append((name, definition))
        chunk = max(spends_per_organization // 52, 1)
        params = {
            "start": start,
            "slot": timedelta(days=days) / spends_per_organization,
            "employees": employees,
            "merchants": MERCHANTS,
            "categories": CATEGORIES,
            "currency": "USD",
        }
        spends_sql = _SPENDS_SQL.format(**tables, transaction_id=transaction_id_sql("d.at"))
        for first in range(0, spends_per_organization, chunk):
            last = min(first + chunk, spends_per_organization)
            cursor.execute(spends_sql, {**params, "first": first, "last": last})
            progress(f"spends {last} of {spends_per_organization} an organization")
        for definition in [definition for _, definition in dropped]:
            cursor.execute(definition)
        if bulk:
            cursor.execute(f"ALTER TABLE {tables['entry']} ENABLE TRIGGER ledger_entry_balanced")
            cursor.execute(f"ANALYZE {tables['entry']}")
            cursor.execute(f"ANALYZE {tables['transaction']}")
        mark = step("spends", mark)

        month = date(start.year, start.month, 1)
        department_ids = [unit[0] for _, _, units in made for unit in units]
        while month <= finish.date():
            budget_periods_open(department_ids=department_ids, month=month)
            month = (month + timedelta(days=32)).replace(day=1)
        cursor.execute(_BUDGETS_SQL.format(**tables))
        cursor.execute(_TALLIES_SQL.format(**tables))
        mark = step("budgets_and_tallies", mark)

        sealed = _chain(
            cursor,
            {organization[0] for organization, _, _ in made},
            checkpoint_links=checkpoint_links,
            batch=200_000,
            progress=progress,
        )
        mark = step("seals", mark)
        cursor.execute("DROP TABLE growth_organizations, growth_spenders, growth_departments")

    ours = list(Organization.objects.filter(id__in=[organization[0] for organization, _, _ in made]))
    figures["balance_checkpoints"] = balance_checkpoints_backfill(
        every=timedelta(days=checkpoint_days), organizations=ours
    )
    mark = step("balance_checkpoints", mark)
    if bulk:
        owner.execute("VACUUM ANALYZE")
        mark = step("vacuum", mark)
    figures["entries"] = sealed
    figures["build_seconds"] = round(time.monotonic() - started, 1)
    return figures


# The measurements, each in a child process of its own on one database (Django binds one per process).


def _database_url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def _child_env(database: str) -> dict:
    return {**os.environ, "BENCH_DB": database, "BENCH_REDIS_URL": REDIS_URL}


def _child(database: str, *arguments: str) -> dict:
    """Run `python -m bench.growth --child DATABASE ...`; its last line of output is its figures as JSON."""
    command = [sys.executable, "-m", "bench.growth", "--child", database, *arguments]
    finished = subprocess.run(command, env=_child_env(database), cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if finished.returncode:
        raise SystemExit(f"{' '.join(command[2:])} failed ({finished.returncode})")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def child_build(arguments) -> dict:
    """A scratch database (bench/run.py's, with its baseline tables), migrated, and `generate`d."""
    from bench import run

    run.recreate_database()
    run.setup_django()
    with psycopg.connect(run.BENCH_ENV["DATABASE_URL"], autocommit=True) as owner:
        return generate(
            owner,
            organizations=arguments.organizations,
            entries=arguments.entries,
            departments=arguments.departments,
            employees=arguments.employees,
            checkpoint_days=arguments.checkpoint_days,
            bulk=True,
            progress=lambda message: print(message, file=sys.stderr, flush=True),
        )


def _first_organization():
    from apps.tenancy.models import Organization

    return Organization.objects.get(name=organization_name(0))


def _reads(port: int, token: str, requests: int) -> dict:
    """The dashboard's and the questions' p95, one request at a time, after a warm-up of each."""
    import asyncio

    from bench.loadgen import closed_loop, percentile

    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def dashboard(index: int):
        return "GET", "/api/v1/reports/dashboard", headers, b""

    def question(index: int):
        return "POST", "/api/v1/query", headers, json.dumps({"q": QUESTIONS[index % len(QUESTIONS)]}).encode()

    figures: dict = {}
    for name, make, total in (("dashboard", dashboard, requests), ("nlq", question, requests)):
        asyncio.run(closed_loop("127.0.0.1", port, 1, len(QUESTIONS), make))
        run = asyncio.run(closed_loop("127.0.0.1", port, 1, total, make))
        latencies = [sample.latency_ms for sample in run.samples]
        figures[f"{name}_p50_ms"] = round(percentile(latencies, 0.50), 1)
        figures[f"{name}_p95_ms"] = round(percentile(latencies, 0.95), 1)
        figures[f"{name}_statuses"] = run.statuses()
    return figures


def child_service(arguments) -> dict:
    """Reads, then baseline and ingest, then settlement of a fresh organization, as `make bench` runs them."""
    from bench import run

    run.setup_django()
    from apps.ledger.verification import ledger_verify
    from apps.tenancy import services as tenancy_services
    from apps.tenancy.models import User

    finance = User.objects.get(email=finance_email(0))
    organization, tokens = run.seed(arguments.clients, 0, name=f"Bench {uuid.uuid4().hex[:8]}")

    def check() -> bool:
        # The fresh organization's ledger: a whole verification is timed on its own (child_verify).
        report = ledger_verify(organization=organization)
        if not report["ok"]:
            print("verify_ledger problems:", *report["problems"][:10], sep="\n  ", file=sys.stderr)
        return report["ok"]

    figures: dict = {}
    checks: dict = {}
    port = run.free_port()
    processes = [run.start(run.WEB_SERVER, port)]
    try:
        run.wait_http(port)
        figures.update(_reads(port, tenancy_services.token_create(user=finance), arguments.read_requests))
        run.measure_ingest(port, tokens, arguments, figures, checks, check=check)
        run.measure_settlement(arguments, figures, checks, processes, check=check)
    finally:
        for process in processes:
            run.stop(process)
    # Against references in the same turn that the ledger's size does not touch (the bare endpoint, pgbench's
    # hot row): the machine's drift between turns cancels in these.
    figures["ingest_p99_vs_baseline_p99"] = round(figures["ingest_p99_ms"] / figures["baseline_p99_ms"], 3)
    figures["checks"] = all(checks.values())
    return figures


def child_export(arguments) -> dict:
    """The journal export (CSV, streamed into SHA-256 as the sidecar does) of the first organization's last
    whole month, through apps/exports as bench/exports.py measures it."""
    from bench import run

    run.setup_django()
    from django.utils import timezone

    from apps.exports.exporting import export_define, export_sha256

    month = (timezone.now().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    organization = _first_organization()
    seconds = []
    for _ in range(arguments.export_repeats):
        export = export_define(organization=organization, kind="journal", month=month, file_format="csv")
        started = time.monotonic()
        export_sha256(export)
        seconds.append(time.monotonic() - started)
    return {"export_month_seconds": round(min(seconds), 3)}


def _verify_timed(name: str, *, incremental: bool) -> dict:
    from apps.ledger.verification import ledger_verify

    started = time.monotonic()
    report = ledger_verify(
        incremental=incremental, progress=lambda message: print(f"{name} {message}", file=sys.stderr)
    )
    figures = {f"{name}_seconds": round(time.monotonic() - started, 1), f"{name}_ok": report["ok"]}
    if not report["ok"]:
        print(f"{name} problems:", *report["problems"][:10], sep="\n  ", file=sys.stderr)
    return figures


def child_point(arguments) -> dict:
    """verify_ledger of the whole database in full (its steps' times to stderr), before the turns: the
    verified point the incremental run after them resumes from."""
    from bench import run

    run.setup_django()
    from apps.ledger.chain import ledger_seal_all

    ledger_seal_all()
    return _verify_timed("verify_full", incremental=False)


def _spend_in_every_organization() -> int:
    """A spend by an employee of each organization, through the services, settled: after the turns (whose
    spends are all a fresh organization's), every organization has written since the point, as a day would."""
    from apps.spending import services as spending_services
    from apps.tenancy.models import Role, User

    employees = User.objects.filter(role=Role.EMPLOYEE).order_by("organization_id", "email").distinct("organization_id")
    for employee in employees:
        spending_services.transaction_submit(
            user=employee,
            idempotency_key=f"growth-day-{uuid.uuid4()}",
            amount="12.50",
            currency=employee.organization.currency,
            merchant="Delta",
            category="travel",
        )
        spending_services.settlement_run(organization_id=employee.organization_id)
    return len(employees)


def child_verify(arguments) -> dict:
    """verify_ledger --incremental of the whole database after the turns and a spend in every organization
    (its steps' times to stderr), and the database's size."""
    from bench import run

    run.setup_django()
    from django.db import connection

    from apps.ledger.chain import ledger_seal_all
    from apps.ledger.models import Entry

    figures: dict = {"verify_spent_in_organizations": _spend_in_every_organization()}
    # The spends the turns settled, sealed as the beat task would have: unsealed, they are a problem.
    ledger_seal_all()
    figures.update(_verify_timed("verify_incremental", incremental=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        (size,) = cursor.fetchone()
    entries = Entry.objects.count()
    figures["entries"] = entries
    figures["database_mib"] = round(size / 2**20)
    figures["mib_per_million_entries"] = round(size / 2**20 / (entries / 1e6), 1) if entries else None
    return figures


CHILDREN = {
    "build": child_build,
    "point": child_point,
    "service": child_service,
    "export": child_export,
    "verify": child_verify,
}


def within(growth: float, empty: float, tolerance: float, *, higher_is_better: bool) -> bool:
    """Whether the figure with a year of data is within `tolerance` of the empty database's."""
    if higher_is_better:
        return growth >= empty * (1 - tolerance)
    return growth <= empty * (1 + tolerance)


def summarize(growth: dict, empty: dict) -> dict:
    """Each measured figure on both databases (the median of the rounds), and the issue's targets."""
    figures: dict = {"cores": os.cpu_count()}
    for name in sorted(set(growth) | set(empty)):
        figures[f"growth_{name}"] = growth.get(name)
        figures[f"empty_{name}"] = empty.get(name)
    figures["settle_vs_empty"] = round(growth["settle_tps"] / empty["settle_tps"], 3)
    figures["ingest_p99_vs_empty"] = round(growth["ingest_p99_ms"] / empty["ingest_p99_ms"], 3)
    # The same, each first divided by its turn's reference (settle_vs_pg_hot_row, ingest_p99_vs_baseline_p99).
    figures["settle_vs_empty_drift_corrected"] = round(
        growth["settle_vs_pg_hot_row"] / empty["settle_vs_pg_hot_row"], 3
    )
    figures["ingest_p99_vs_empty_drift_corrected"] = round(
        growth["ingest_p99_vs_baseline_p99"] / empty["ingest_p99_vs_baseline_p99"], 3
    )
    figures["targets"] = {
        "settlement_within_10pct": within(growth["settle_tps"], empty["settle_tps"], 0.10, higher_is_better=True),
        "settlement_within_10pct_drift_corrected": figures["settle_vs_empty_drift_corrected"] >= 0.9,
        "ingest_p99_within_10pct": within(
            growth["ingest_p99_ms"], empty["ingest_p99_ms"], 0.10, higher_is_better=False
        ),
        "ingest_p99_within_10pct_drift_corrected": figures["ingest_p99_vs_empty_drift_corrected"] <= 1.1,
        "dashboard_p95_under_300ms": growth["dashboard_p95_ms"] < 300,
        "nlq_p95_under_300ms": growth["nlq_p95_ms"] < 300,
    }
    if "verify_incremental_seconds" in growth:
        figures["targets"]["incremental_verify_under_60s"] = growth["verify_incremental_seconds"] < 60
    return figures


def median(values: list) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def combine(rounds: list[dict]) -> dict:
    """The rounds of one database as one: the median of each number, the sum of each status count."""
    combined: dict = {}
    for name in rounds[0]:
        values = [each[name] for each in rounds if name in each]
        if isinstance(values[0], bool):
            combined[name] = all(values)
        elif isinstance(values[0], dict):
            combined[name] = {key: sum(each.get(key, 0) for each in values) for key in values[0]}
        else:
            combined[name] = round(median(values), 3)
    combined["rounds"] = len(rounds)
    return combined


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--organizations", type=int, default=1000, help="organizations in the grown database")
    parser.add_argument("--entries", type=int, default=10_000_000, help="ledger entries in the grown database")
    parser.add_argument("--departments", type=int, default=4, help="departments an organization")
    parser.add_argument("--employees", type=int, default=12, help="employees an organization")
    parser.add_argument("--checkpoint-days", type=float, default=7, help="days between balance checkpoints")
    parser.add_argument("--reuse", action="store_true", help="measure the databases the last run built")
    parser.add_argument("--rounds", type=int, default=4, help="alternating turns on the two databases")
    parser.add_argument("--read-requests", type=int, default=100, help="dashboard requests, and questions, a turn")
    parser.add_argument("--export-repeats", type=int, default=3, help="exports of the month a turn (the fastest)")
    parser.add_argument("--clients", type=int, default=64, help="clients of the baseline and ingest phases")
    parser.add_argument("--baseline-requests", type=int, default=4_000, help="baseline requests a turn")
    parser.add_argument("--backlog", type=int, default=10_000, help="spends ingested, then settled, a turn")
    parser.add_argument(
        "--ingest-rounds", type=int, default=2, help="alternating baseline and ingest rounds within a turn"
    )
    parser.add_argument("--settle-workers", type=int, default=2, help="settlement worker processes")
    parser.add_argument("--pgbench-seconds", type=int, default=5, help="pgbench's hot-row reference, a turn")
    parser.add_argument("--no-verify", action="store_true", help="leave out verify_ledger (full and incremental)")
    parser.add_argument("--child", nargs=2, metavar=("DATABASE", "PART"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        _, part = arguments.child
        # bench/run.py's phases read `rounds` as their own alternating baseline and ingest rounds.
        arguments.rounds = arguments.ingest_rounds
        print(json.dumps(CHILDREN[part](arguments), default=str), flush=True)
        return

    from bench.run import benchmarks_csv_append, run_row

    built: dict = {}
    if not arguments.reuse:
        build_arguments = [
            "--organizations", str(arguments.organizations), "--entries", str(arguments.entries),
            "--departments", str(arguments.departments), "--employees", str(arguments.employees),
            "--checkpoint-days", str(arguments.checkpoint_days),
        ]  # fmt: skip
        # The empty database: the first organization alone, with its year (the same size as in the other).
        per_organization = max(arguments.entries // arguments.organizations, 2)
        empty_arguments = [*build_arguments]
        empty_arguments[1], empty_arguments[3] = "1", str(per_organization)
        built["empty"] = _child(EMPTY_DB, "build", *empty_arguments)
        print(f"built {EMPTY_DB}: {built['empty']}", flush=True)
        built["growth"] = _child(GROWTH_DB, "build", *build_arguments)
        print(f"built {GROWTH_DB}: {built['growth']}", flush=True)

    forwarded = [
        "--read-requests", str(arguments.read_requests), "--export-repeats", str(arguments.export_repeats),
        "--clients", str(arguments.clients), "--baseline-requests", str(arguments.baseline_requests),
        "--backlog", str(arguments.backlog), "--settle-workers", str(arguments.settle_workers),
        "--pgbench-seconds", str(arguments.pgbench_seconds), "--ingest-rounds", str(arguments.ingest_rounds),
    ]  # fmt: skip
    measured: dict[str, list[dict]] = {"growth": [], "empty": []}
    databases = {"growth": GROWTH_DB, "empty": EMPTY_DB}
    points = {} if arguments.no_verify else {name: _child(database, "point") for name, database in databases.items()}
    for round_index in range(arguments.rounds):
        # Alternating which goes first, so that neither always follows the other's load.
        for name in ("empty", "growth") if round_index % 2 == 0 else ("growth", "empty"):
            figures = _child(databases[name], "service", *forwarded)
            figures.update(_child(databases[name], "export", *forwarded))
            print(f"round {round_index + 1}, {name}: {json.dumps(figures)}", flush=True)
            measured[name].append(figures)
    combined = {name: combine(rounds) for name, rounds in measured.items()}
    for name in ("empty", "growth"):
        if not arguments.no_verify:
            combined[name].update(points[name])
            combined[name].update(_child(databases[name], "verify", *forwarded))
        for part, seconds in built.get(name, {}).items():
            combined[name][f"build_{part}"] = seconds
    figures = summarize(combined["growth"], combined["empty"])
    figures["organizations"] = arguments.organizations
    print(json.dumps(figures, indent=2, default=str))
    print(f"\n{'figure':<34} {'empty':>14} {'a year of data':>16}")
    for name in sorted(combined["growth"]):
        print(f"{name:<34} {combined['empty'].get(name)!s:>14} {combined['growth'][name]!s:>16}")
    for target, met in figures.get("targets", {}).items():
        print(f"{target:<34} {'met' if met else 'NOT MET'}")
    benchmarks_csv_append(run_row("growth", figures))


if __name__ == "__main__":
    main()
