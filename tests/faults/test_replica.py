"""Reporting reads on a real streaming replica (ledgerx/replica.py).

The test makes a PostgreSQL primary of its own (initdb, on a free port), copies this run's database
into it, and streams a replica from it with `pg_basebackup`; the replica then joins Django's
connections as `replica`. Reporting reads go there while it keeps up, and to the primary when it
lags or is stopped; money decisions never read from it.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.ledger.models import Transaction
from apps.nlq.selectors import query_answer
from ledgerx.replica import REPLICA_ALIAS, ReportingReplicaRouter, replica_verdict_forget, reporting_reads
from tests.processes import Cluster, postgres_bin, wait_until

# The replica is a database of the test's: a mirror of `default` for Django's test machinery, which
# then neither flushes it nor forbids reading it.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["default", REPLICA_ALIAS])]


@pytest.fixture(scope="module")
def clusters(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        bin_dir = postgres_bin()
        name, server = connection.settings_dict["NAME"], connection.settings_dict
    if not (bin_dir / "initdb").exists() or not shutil.which("runuser"):
        pytest.skip(f"PostgreSQL's server programs are not in {bin_dir}")
    work = Path(tempfile.mkdtemp(prefix="ledgerx-replica-"))
    if os.geteuid() == 0:
        shutil.chown(work, "postgres", "postgres")
    primary = Cluster(bin_dir, work / "primary")
    replica = Cluster(bin_dir, work / "replica")
    common = {"listen_addresses": "127.0.0.1", "fsync": "off", "full_page_writes": "off"}
    try:
        primary.run("initdb", "-D", str(primary.directory), "-U", "postgres", "--auth=trust", "--no-sync")
        primary.configure(port=str(primary.port), unix_socket_directories=str(work), wal_level="replica", **common)
        primary.start()
        # This run's database and its roles, copied into the primary; the replica then copies the primary.
        source = ["-h", server["HOST"] or "127.0.0.1", "-p", str(server["PORT"] or 5432), "-U", "postgres"]
        roles = primary.run("pg_dumpall", *source, "--roles-only").stdout
        primary.run("psql", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-q", input=roles)
        primary.run("createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", name)
        schema = primary.run("pg_dump", *source, name).stdout
        primary.run(
            "psql", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-q", "-d", name, input=schema
        )
        replica.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(replica.directory), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip
        replica.configure(port=str(replica.port), unix_socket_directories=str(work), hot_standby="on", **common)
        replica.start()
        # As REPLICA_DATABASE_URL would make it; before the tests' database fixtures, which check it.
        django_settings.DATABASES[REPLICA_ALIAS] = {
            **server,
            "HOST": "127.0.0.1",
            "PORT": str(replica.port),
            "TEST": {**server["TEST"], "MIRROR": "default"},
        }
        yield primary, replica, name
    finally:
        if REPLICA_ALIAS in django_settings.DATABASES:
            connections[REPLICA_ALIAS].close()
            del connections[REPLICA_ALIAS]
            del django_settings.DATABASES[REPLICA_ALIAS]
        for cluster in (replica, primary):
            if (cluster.directory / "postmaster.pid").exists():
                cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def replica_alias(clusters, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    replica_verdict_forget()
    yield clusters
    replica_verdict_forget()


def _served_by_replica(read) -> bool:
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        read()
    return any("ledger_transaction" in query["sql"] for query in on_replica.captured_queries)


def test_reporting_reads_go_to_a_replica_that_keeps_up(replica_alias, tenant):
    router = ReportingReplicaRouter()
    assert router.db_for_read(Transaction) is None  # not a reporting read
    with reporting_reads():
        assert router.db_for_read(Transaction) == REPLICA_ALIAS
        assert _served_by_replica(lambda: Transaction.objects.count())
    # A question's answer is a reporting read.
    assert _served_by_replica(lambda: query_answer(user=tenant.finance, question="total spend this month"))


def test_money_decisions_and_reads_in_a_transaction_stay_on_the_primary(replica_alias):
    router = ReportingReplicaRouter()
    assert not _served_by_replica(lambda: Transaction.objects.count())
    with reporting_reads(), transaction.atomic():
        assert router.db_for_read(Transaction) is None
        assert not _served_by_replica(lambda: Transaction.objects.count())


def test_a_lagging_replica_is_passed_over_until_it_catches_up(replica_alias):
    primary, replica, name = replica_alias
    router = ReportingReplicaRouter()
    replica.execute("SELECT pg_wal_replay_pause()")
    try:
        primary.execute("CREATE TABLE lag_probe AS SELECT 1 AS written", dbname=name)
        time.sleep(1.5)  # over REPLICA_MAX_LAG_SECONDS since the last replayed transaction
        replica_verdict_forget()
        with reporting_reads():
            assert router.db_for_read(Transaction) is None
    finally:
        replica.execute("SELECT pg_wal_replay_resume()")
        primary.execute("DROP TABLE lag_probe", dbname=name)

    def caught_up() -> bool:
        replica_verdict_forget()
        with reporting_reads():
            return router.db_for_read(Transaction) == REPLICA_ALIAS

    assert wait_until(caught_up, timeout=10)


def test_a_stopped_replica_is_passed_over_and_used_again_once_back(replica_alias):
    _, replica, _ = replica_alias
    router = ReportingReplicaRouter()
    replica.stop()
    try:
        replica_verdict_forget()
        with reporting_reads():
            assert router.db_for_read(Transaction) is None
            assert Transaction.objects.count() >= 0  # answered by the primary
    finally:
        replica.start()

    def back() -> bool:
        replica_verdict_forget()
        with reporting_reads():
            return router.db_for_read(Transaction) == REPLICA_ALIAS

    assert wait_until(back, timeout=20)
