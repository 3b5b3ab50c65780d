"""`python manage.py ...` in a demo checkout, with nothing exported: the demo's settings, and a plain
answer when `make demo` is not running its servers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _manage(var_dir: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    """manage.py as a newcomer runs it: production settings, only the demo checkout's var/ to go by."""
    unset = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    inherited = {name: value for name, value in os.environ.items() if name not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env={**inherited, "LEDGERX_VAR_DIR": str(var_dir), **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def demo_var(tmp_path) -> Path:
    """A demo checkout's var/ after `make demo` stopped: its key, and no server running."""
    (tmp_path / "secret_key").write_text("the-demo-checkouts-own-key-0123456789-abcdefghijklmnop")
    return tmp_path


def test_a_command_without_the_demo_running_says_to_start_make_demo(demo_var):
    result = _manage(demo_var, "verify_ledger")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"The demo's PostgreSQL and Redis under {demo_var} are not running: start `make demo` in another terminal "
        "and run this command again while it runs (or set DATABASE_URL and REDIS_URL to servers of your own)."
    )


def test_a_command_that_needs_no_server_runs_with_the_demo_key_and_nothing_exported(demo_var):
    result = _manage(demo_var, "check")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_server_of_ones_own_that_is_down_fails_as_it_did(demo_var):
    # Only the database is one's own: the embedded Redis is not running either, but did not fail the command.
    result = _manage(demo_var, "verify_ledger", DATABASE_URL="postgresql://postgres@127.0.0.1:9/ledgerx")

    assert result.returncode == 1
    assert "OperationalError" in result.stderr
    assert "make demo" not in result.stderr
