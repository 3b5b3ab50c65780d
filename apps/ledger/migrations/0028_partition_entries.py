"""The entries and their seals partitioned by month (docs/architecture.md, Partitioning).

Both tables become PARTITION BY RANGE on the entry id (`ledger_entryseal` on `entry_id`), one partition
of each per month, with the same bounds: a month's entries are the ids issued while it was the open month.
Each month gets a range of ENTRY_ID_SPAN ids, made a month ahead; when a month begins the roll moves the
id sequence up to its range (ledger_entry_partitions_roll below, run by an hourly beat task), so no
partition's bounds ever change and no lock is taken at the boundary. An id issued just before the move
lands in the month it was issued in.

The primary key stays `id` (it holds the partition key) and nothing that refers to an entry changes.
A seal's key is (id, entry_id, organization_id) with entry_id unique; a chain's sequence is unique per partition only
(a unique key of a partitioned table must hold its partition key): across partitions the sealer's
lock makes it so and verify_ledger would name a repeat as a gap in the chain.

The rows already there are moved into one partition per month they were written in (the month's
partition starts at the lowest id written in or after it), under the migration's exclusive lock: it
rewrites both tables once. PostgreSQL 15 has no identity column on a partitioned table, so the id is a
plain sequence owned by the column (the same name, ledger_entry_id_seq). The triggers are made again on
the partitioned tables from their own migrations' SQL: PostgreSQL clones the row triggers onto every
partition and fires the statement trigger (with its transition table) for rows routed to any of them.
"""

from django.db import migrations, models

from ledgerx.guarded_triggers import trigger_statement

# Ids per month: far above any month's entries, and a century of months stays below 2**53 (JSON-safe).
ENTRY_ID_SPAN = 1 << 32
# pg_advisory_xact_lock key of the roll, apart from the other single-key locks.
ROLL_LOCK = 0x5EA1_0025

# Our own, not pg_partman's: it partitions by a time column (which would join every key) or by fixed-size id
# steps (which are not months); here a month is the ids issued while it was open (docs/architecture.md).
FUNCTIONS = rf"""
CREATE FUNCTION ledger_entry_partition_create(partition_month date, partition_from bigint, partition_to bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    suffix text := to_char(partition_month, '"y"YYYY"m"MM');
BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF ledger_entry FOR VALUES FROM (%s) TO (%s)',
                   'ledger_entry_' || suffix, partition_from, partition_to);
    EXECUTE format('CREATE TABLE %I PARTITION OF ledger_entryseal FOR VALUES FROM (%s) TO (%s)',
                   'ledger_entryseal_' || suffix, partition_from, partition_to);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (organization_id, sequence)',
                   'ledger_entryseal_' || suffix || '_sequence', 'ledger_entryseal_' || suffix);
END $$;

-- Run by the application role (a beat task), as the owner: only the owner may add partitions or move
-- the sequence. It does only this: make this month's and next month's partitions if they are missing,
-- and move the id sequence up to this month's range. A short lock timeout, so that a long reader of
-- ledger_entry delays the next hour's run rather than every insert queued behind the partition's lock.
CREATE FUNCTION ledger_entry_partitions_roll(moment timestamptz) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    this_month date := date_trunc('month', moment AT TIME ZONE 'UTC')::date;
    wanted date;
    last_month date;
    last_to bigint;
    open_from bigint;
BEGIN
    PERFORM pg_advisory_xact_lock({ROLL_LOCK});
    PERFORM set_config('lock_timeout', '5s', true);
    FOREACH wanted IN ARRAY ARRAY[this_month, (this_month + interval '1 month')::date] LOOP
        SELECT max(p.month), max(p.id_to) INTO last_month, last_to FROM ledger_entrypartition p;
        IF last_month IS NULL OR wanted > last_month THEN
            PERFORM ledger_entry_partition_create(wanted, coalesce(last_to, 1), coalesce(last_to, 1) + {ENTRY_ID_SPAN});
        END IF;
    END LOOP;
    -- Forward only, under the lock: every id issued so far is below this month's range.
    SELECT p.id_from INTO open_from FROM ledger_entrypartition p WHERE p.month = this_month;
    IF open_from > (SELECT last_value FROM ledger_entry_id_seq) THEN
        PERFORM setval('ledger_entry_id_seq', open_from, false);
    END IF;
END $$;

-- Detach a month's partitions from the live tables into the archive's (apps/ledger/partitions.py), as the
-- owner. It refuses by itself what may not be archived, so that no caller can archive otherwise: a month
-- whose ids are not all issued yet, an entry in it dated into a month its organization has not closed,
-- an entry not sealed. It checks after detaching, on the detached tables: the detach waits for the
-- writers still inside the month and holds out new ones until the end (one scan of the month).
CREATE FUNCTION ledger_entry_partition_archive(archived_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    entries text := 'ledger_entry_' || to_char(archived_month, '"y"YYYY"m"MM');
    seals text := 'ledger_entryseal_' || to_char(archived_month, '"y"YYYY"m"MM');
    bounds record;
    refusal text;
    seal_key name;
BEGIN
    PERFORM pg_advisory_xact_lock({ROLL_LOCK});
    PERFORM set_config('lock_timeout', '5s', true);
    SELECT p.id_from, p.id_to INTO bounds FROM ledger_entrypartition p WHERE p.month = archived_month AND NOT p.archived;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the entries of % have no live partition', to_char(archived_month, 'YYYY-MM')
            USING ERRCODE = 'LXP01';
    END IF;
    IF bounds.id_to > (SELECT last_value FROM ledger_entry_id_seq) THEN
        RAISE EXCEPTION 'the entries of % are still being written', to_char(archived_month, 'YYYY-MM')
            USING ERRCODE = 'LXP01';
    END IF;
    EXECUTE format('ALTER TABLE ledger_entryseal DETACH PARTITION %I', seals);
    -- The seals' key to the live entries, which the entries' detach would refuse.
    SELECT conname INTO seal_key FROM pg_constraint
    WHERE conrelid = seals::regclass AND contype = 'f' AND confrelid = 'ledger_entry'::regclass;
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', seals, seal_key);
    EXECUTE format('ALTER TABLE ledger_entry DETACH PARTITION %I', entries);
    EXECUTE format('ALTER TABLE %I SET SCHEMA ledger_archive', entries);
    EXECUTE format('ALTER TABLE %I SET SCHEMA ledger_archive', seals);
    EXECUTE format('ALTER TABLE ledger_archive.ledger_entry ATTACH PARTITION ledger_archive.%I FOR VALUES FROM (%s) TO (%s)',
                   entries, bounds.id_from, bounds.id_to);
    EXECUTE format('ALTER TABLE ledger_archive.ledger_entryseal ATTACH PARTITION ledger_archive.%I FOR VALUES FROM (%s) TO (%s)',
                   seals, bounds.id_from, bounds.id_to);
    EXECUTE format($sql$
        SELECT format('month %%s of organization %%s is not closed', to_char(m.month, 'YYYY-MM'), m.organization_id)
        FROM (
            SELECT DISTINCT e.organization_id, date_trunc('month', e.created_at AT TIME ZONE o.timezone)::date AS month
            FROM ledger_archive.%I e JOIN tenancy_organization o ON o.id = e.organization_id
        ) m
        WHERE (
            SELECT c.act FROM ledger_monthclose c
            WHERE c.organization_id = m.organization_id AND c.month = m.month ORDER BY c.id DESC LIMIT 1
        ) IS DISTINCT FROM 'closed'
        UNION ALL
        SELECT format('entry %%s is not sealed', e.id) FROM ledger_archive.%I e
        WHERE NOT EXISTS (SELECT FROM ledger_archive.%I s WHERE s.entry_id = e.id)
        LIMIT 1 $sql$, entries, entries, seals) INTO refusal;
    IF refusal IS NOT NULL THEN
        RAISE EXCEPTION 'the entries of % cannot be archived: %', to_char(archived_month, 'YYYY-MM'), refusal
            USING ERRCODE = 'LXP01';
    END IF;
END $$;
"""

# The archive: where archived months' partitions go (apps/ledger/partitions.py), still append-only; the
# views that read the live and the archived months together, for every reader of the whole history
# (verification, the chain, balances, closes); and the months' partitions as the catalog has them, one
# truth that nothing can make disagree.
ARCHIVE_AND_VIEWS = r"""
CREATE SCHEMA ledger_archive;
CREATE TABLE ledger_archive.ledger_entry (LIKE ledger_entry INCLUDING CONSTRAINTS) PARTITION BY RANGE (id);
CREATE TABLE ledger_archive.ledger_entryseal (LIKE ledger_entryseal INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (entry_id);
CREATE TRIGGER ledger_archive_entry_immutable BEFORE UPDATE OR DELETE ON ledger_archive.ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_refuse_change();
CREATE TRIGGER ledger_archive_entry_no_truncate BEFORE TRUNCATE ON ledger_archive.ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_refuse_change();
CREATE TRIGGER ledger_archive_entryseal_immutable BEFORE UPDATE OR DELETE ON ledger_archive.ledger_entryseal
    FOR EACH ROW EXECUTE FUNCTION ledger_entryseal_refuse_change();
CREATE TRIGGER ledger_archive_entryseal_no_truncate BEFORE TRUNCATE ON ledger_archive.ledger_entryseal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entryseal_refuse_change();

CREATE VIEW ledger_entry_history AS
    SELECT * FROM ledger_entry UNION ALL SELECT * FROM ledger_archive.ledger_entry;
CREATE VIEW ledger_entryseal_history AS
    SELECT * FROM ledger_entryseal UNION ALL SELECT * FROM ledger_archive.ledger_entryseal;

CREATE VIEW ledger_entrypartition AS
SELECT make_date(substring(c.relname, 'y(\d{4})m\d{2}$')::int, substring(c.relname, 'm(\d{2})$')::int, 1) AS month,
       substring(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''(\d+)''\)')::bigint AS id_from,
       substring(pg_get_expr(c.relpartbound, c.oid), 'TO \(''(\d+)''\)')::bigint AS id_to,
       i.inhparent = 'ledger_archive.ledger_entry'::regclass AS archived
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('ledger_entry'::regclass, 'ledger_archive.ledger_entry'::regclass);
"""

REMOVE_FUNCTIONS = """
DROP FUNCTION ledger_entry_partition_archive(date);
DROP VIEW ledger_entrypartition;
DROP VIEW ledger_entryseal_history;
DROP VIEW ledger_entry_history;
DROP SCHEMA ledger_archive CASCADE;
DROP FUNCTION ledger_entry_partitions_roll(timestamptz);
DROP FUNCTION ledger_entry_partition_create(date, bigint, bigint);
"""

ENTRY_TRIGGERS = [
    ("apps.ledger.migrations.0003_ledger_triggers", "ledger_entry_immutable"),
    ("apps.ledger.migrations.0003_ledger_triggers", "ledger_entry_no_truncate"),
    ("apps.ledger.migrations.0003_ledger_triggers", "ledger_entry_balanced"),
    ("apps.ledger.migrations.0023_month_close_triggers", "ledger_entry_month_open"),
]
SEAL_TRIGGERS = [
    ("apps.ledger.migrations.0005_entry_seal_triggers", "ledger_entryseal_immutable"),
    ("apps.ledger.migrations.0005_entry_seal_triggers", "ledger_entryseal_no_truncate"),
]

# What both shapes of the tables share, made after the rows are in.
ENTRY_KEYS = [
    "CREATE INDEX entry_account_created ON ledger_entry (account_id, created_at) INCLUDE (amount_minor, id)",
    "CREATE INDEX entry_account_id ON ledger_entry (account_id, id) INCLUDE (created_at, amount_minor)",
    "CREATE INDEX ledger_entry_organization_id_a5317604 ON ledger_entry (organization_id)",
    "CREATE INDEX ledger_entry_transaction_id_c459e7a1 ON ledger_entry (transaction_id)",
    "ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_transaction_id_c459e7a1_fk_ledger_transaction_id"
    " FOREIGN KEY (transaction_id) REFERENCES ledger_transaction (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE ledger_entry ADD CONSTRAINT entry_account_in_organization FOREIGN KEY (organization_id, account_id)"
    " REFERENCES ledger_account (organization_id, id) DEFERRABLE INITIALLY DEFERRED",
]
SEAL_KEYS = [
    "CREATE INDEX ledger_entryseal_organization_id_61fe4af2 ON ledger_entryseal (organization_id)",
    "ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_entry_id_fe88e832_fk_ledger_entry_id"
    " FOREIGN KEY (entry_id) REFERENCES ledger_entry (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_organization_id_61fe4af2_fk_tenancy_o"
    " FOREIGN KEY (organization_id) REFERENCES tenancy_organization (id) DEFERRABLE INITIALLY DEFERRED",
]


def _set_aside(execute, fetch) -> dict[str, tuple[int, bool]]:
    """Rename both tables out of the way (`<table>_old`), without their id default, keys, indexes and
    triggers' targets. Returns each id sequence's state, to carry over."""
    sequences = {}
    for (name,) in fetch(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_entryseal'::regclass"
        " AND confrelid = 'ledger_entry'::regclass"
    ):
        execute(f"ALTER TABLE ledger_entryseal DROP CONSTRAINT {name}")
    for table in ("ledger_entry", "ledger_entryseal"):
        sequences[table] = fetch(f"SELECT last_value, is_called FROM {table}_id_seq")[0]
        execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        [(identity,)] = fetch(
            "SELECT attidentity <> '' FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'id'",
            [f"{table}_old"],
        )
        execute(f"ALTER TABLE {table}_old ALTER COLUMN id {'DROP IDENTITY' if identity else 'DROP DEFAULT'}")
        execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")
        for (name,) in fetch(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f')",
            [f"{table}_old"],
        ):
            execute(f"ALTER TABLE {table}_old DROP CONSTRAINT {name}")
        for (name,) in fetch(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass", [f"{table}_old"]
        ):
            execute(f"DROP INDEX {name}")
    return sequences


def _month_bounds(fetch, next_id: int) -> list[tuple]:
    """(month, first id) of each month before this one that has entries, and of this month: a month
    starts at the lowest id written in or after it, this month at its first entry or at the next id."""
    [(this_month,)] = fetch("SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date")
    rows = fetch(
        """
        SELECT month, min(first_id) OVER (ORDER BY month DESC) FROM (
            SELECT least(date_trunc('month', created_at AT TIME ZONE 'UTC')::date, %s) AS month, min(id) AS first_id
            FROM ledger_entry_old GROUP BY 1
        ) months ORDER BY month
        """,
        [this_month],
    )
    if not rows or rows[-1][0] != this_month:
        rows.append((this_month, next_id))
    bounds: list[tuple] = []
    for month, first_id in rows:
        if bounds and bounds[-1][1] == first_id:
            bounds.pop()  # a month whose entries all have ids of a later month's range: no partition of its own
        bounds.append((month, first_id))
    return bounds


def partition(apps, schema_editor) -> None:
    def execute(sql: str, params=None) -> None:
        schema_editor.execute(sql, params)

    def fetch(sql: str, params=None) -> list[tuple]:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    sequences = _set_aside(execute, fetch)
    for table, partition_key in (("ledger_entry", "id"), ("ledger_entryseal", "entry_id")):
        execute(
            f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            f" PARTITION BY RANGE ({partition_key})"
        )
        last_value, is_called = sequences[table]
        execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
        execute("SELECT setval(%s, %s, %s)", [f"{table}_id_seq", last_value, is_called])
        execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
    execute(ARCHIVE_AND_VIEWS)
    execute(FUNCTIONS)
    last_value, is_called = sequences["ledger_entry"]
    bounds = _month_bounds(fetch, last_value + 1 if is_called else last_value)
    # The first partition from id 1, the last (this month's) a whole span.
    starts = [1, *(first_id for _, first_id in bounds[1:])]
    ends = [*starts[1:], bounds[-1][1] + ENTRY_ID_SPAN]
    for (month, _), id_from, id_to in zip(bounds, starts, ends, strict=True):
        execute("SELECT ledger_entry_partition_create(%s, %s, %s)", [month, id_from, id_to])
    execute("SELECT ledger_entry_partitions_roll(now())")
    for table in ("ledger_entry", "ledger_entryseal"):
        execute(f"INSERT INTO {table} SELECT * FROM {table}_old")
        execute(f"DROP TABLE {table}_old")
    execute("ALTER TABLE ledger_entry ADD CONSTRAINT ledger_entry_pkey PRIMARY KEY (id)")
    # With organization_id, for distribution (docs/scaling.md).
    execute(
        "ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_pkey PRIMARY KEY (id, entry_id, organization_id)"
    )
    execute("ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_entry_id_key UNIQUE (entry_id)")
    for statement in ENTRY_KEYS + SEAL_KEYS:
        execute(statement)
    for migration, name in ENTRY_TRIGGERS + SEAL_TRIGGERS:
        execute(trigger_statement(migration, name))


def unpartition(apps, schema_editor) -> None:
    """Back to one table each, with identity ids, the live and the archived rows moved back."""

    def execute(sql: str, params=None) -> None:
        schema_editor.execute(sql, params)

    def fetch(sql: str, params=None) -> list[tuple]:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    sequences = _set_aside(execute, fetch)
    for table in ("ledger_entry", "ledger_entryseal"):
        execute(f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        execute(f"INSERT INTO {table} SELECT * FROM {table}_old UNION ALL SELECT * FROM ledger_archive.{table}")
    execute(REMOVE_FUNCTIONS)
    for table in ("ledger_entry", "ledger_entryseal"):
        execute(f"DROP TABLE {table}_old")
        execute(f"ALTER TABLE {table} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        last_value, is_called = sequences[table]
        execute("SELECT setval(%s, %s, %s)", [f"{table}_id_seq", last_value, is_called])
        execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
    execute("ALTER TABLE ledger_entryseal ADD CONSTRAINT ledger_entryseal_entry_id_key UNIQUE (entry_id)")
    execute(
        "ALTER TABLE ledger_entryseal ADD CONSTRAINT entry_seal_sequence_per_organization"
        " UNIQUE (organization_id, sequence)"
    )
    for statement in ENTRY_KEYS + SEAL_KEYS:
        execute(statement)
    for migration, name in ENTRY_TRIGGERS + SEAL_TRIGGERS:
        execute(trigger_statement(migration, name))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0027_distribution_keys_gl_accounts")]

    operations = [
        migrations.CreateModel(
            name="EntryPartition",
            fields=[
                (
                    "month",
                    models.DateField(help_text="The month's first day, in UTC.", primary_key=True, serialize=False),
                ),
                ("id_from", models.BigIntegerField()),
                ("id_to", models.BigIntegerField(help_text="Exclusive.")),
                ("archived", models.BooleanField()),
            ],
            options={"db_table": "ledger_entrypartition", "ordering": ["month"], "managed": False},
        ),
        migrations.CreateModel(
            name="EntryHistory",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("amount_minor", models.BigIntegerField()),
                ("currency", models.CharField(max_length=3)),
                ("created_at", models.DateTimeField()),
                ("gl_code", models.CharField(max_length=32)),
                ("cost_centre", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name_plural": "entry history",
                "db_table": "ledger_entry_history",
                "ordering": ["id"],
                "managed": False,
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="entryseal", name="entry_seal_sequence_per_organization")
            ],
            database_operations=[migrations.RunPython(partition, unpartition)],
        ),
    ]
