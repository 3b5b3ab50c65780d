"""Behind PgBouncer (Debian's, really run): session pooling carries LedgerX, and transaction pooling is
refused at start-up by the web server, the workers and `manage.py check`, with the reason.

transaction=True: the processes behind the pooler see only committed rows.
"""

import os
import shutil
import subprocess
import threading

import pytest
from django.db import connection

from apps.ledger.models import Transaction
from ledgerx.pooling import session_pooling_problem
from tests.faults.test_faults import SPEND, _post, _token, assert_all_final_exactly_once, connection_redis_url
from tests.processes import BIN, ROOT, PgBouncer, process_env, start_web, start_worker, stop, wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("pgbouncer") or os.path.exists("/usr/sbin/pgbouncer")),
        reason="PgBouncer is not installed (make test installs Debian's pgbouncer as root)",
    ),
]


def _pooled_env(tmp_path, pool_mode: str) -> tuple[PgBouncer, dict[str, str]]:
    pooler = PgBouncer(tmp_path, pool_mode)
    pooler.start(users=[connection.settings_dict["USER"]])
    env = process_env(connection_redis_url(), DATABASE_URL=pooler.database_url(connection.settings_dict))
    return pooler, env


def test_a_direct_connection_passes_the_check():
    assert session_pooling_problem() is None


def test_transaction_pooling_is_refused_at_start_up_with_the_reason(tmp_path):
    pooler, env = _pooled_env(tmp_path, "transaction")
    try:
        check = subprocess.run(
            [str(BIN / "python"), "manage.py", "check", "--database", "default"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 1
        assert "ledgerx.E001" in check.stderr and "pool_mode = session" in check.stderr

        web = subprocess.run(
            [str(BIN / "python"), "-m", "ledgerx.web"],
            env={**env, "WEB_BIND": "127.0.0.1:0"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert web.returncode == 1
        assert (
            web.stderr.startswith("ledgerx.web will not start: ") and "transaction or statement pooling" in web.stderr
        )

        worker = subprocess.run(
            [str(BIN / "celery"), "-A", "ledgerx", "worker", "-P", "solo", "--loglevel", "warning"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 1 and "the Celery worker will not start" in worker.stderr
    finally:
        pooler.stop()


def test_spends_through_session_pooling_settle_exactly_once(tenant, tmp_path):
    pooler, env = _pooled_env(tmp_path, "session")
    web, base_url = start_web(env)
    worker = start_worker(env, queues="settlement")
    try:
        token = _token(base_url, tenant.employee.email)
        answers: list[int] = []

        def employee_submits(thread: int) -> None:
            answers.extend(_post(base_url, token, f"pooled-{thread}-{index}", SPEND)[0] for index in range(10))

        threads = [threading.Thread(target=employee_submits, args=(thread,)) for thread in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [202] * 40
        settled = wait_until(lambda: not Transaction.objects.filter(status=Transaction.Status.PENDING).exists(), 60)
        assert settled
    finally:
        stop(worker)
        stop(web)
        pooler.stop()
    assert_all_final_exactly_once(40)
