"""Production settings refuse to start with DEBUG off and the demo secret key; with SECRET_KEY unset,
a demo checkout's var/secret_key is the key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerx.settings.env import DEMO_SECRET_KEY

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_KEY = "a-real-secret-key-from-the-environment-0123456789"
SETUP = (
    "import django\n"
    "django.setup()\n"
    "from django.conf import settings\n"
    f"print(settings.DEBUG, settings.SECRET_KEY == {REAL_KEY!r})\n"
    "print(settings.PASSWORD_HASHERS[0])\n"
)


@pytest.fixture
def var_dir(tmp_path) -> Path:
    """A demo checkout's var/ of the test's own, empty unless the test writes a key there: the
    checkout running the tests may have a var/secret_key of its own."""
    return tmp_path


def _start_production(var_dir: Path, **environment: str) -> subprocess.CompletedProcess:
    """Import Django with the production settings in a fresh process, as a server would."""
    inherited = {name: value for name, value in os.environ.items() if name not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        cwd=PROJECT_ROOT,
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production",
            "LEDGERX_VAR_DIR": str(var_dir),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_or_a_key_file_refuses_to_start_and_says_why(var_dir):
    result = _start_production(var_dir, DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is empty or the demo key while DEBUG is off: set SECRET_KEY in the environment." in result.stderr
    assert f"read from {var_dir / 'secret_key'}, which `make demo` writes" in result.stderr


@pytest.mark.parametrize("secret_key", [DEMO_SECRET_KEY, ""])
def test_production_with_the_demo_key_or_an_empty_one_refuses_to_start(var_dir, secret_key):
    result = _start_production(var_dir, DEBUG="0", SECRET_KEY=secret_key)

    assert result.returncode != 0
    assert "set SECRET_KEY in the environment" in result.stderr


def test_production_with_a_secret_key_starts_with_debug_off_and_argon2id_password_hashing(var_dir):
    result = _start_production(var_dir, DEBUG="0", SECRET_KEY=REAL_KEY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False True", "ledgerx.hashers.MeasuredArgon2Hasher"]


def test_without_secret_key_production_reads_the_key_make_demo_wrote(var_dir):
    (var_dir / "secret_key").write_text(f"{REAL_KEY}\n")

    result = _start_production(var_dir, DEBUG="0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "False True"


def test_secret_key_in_the_environment_wins_over_the_key_file(var_dir):
    (var_dir / "secret_key").write_text("the-demo-checkouts-own-key-which-is-not-used-here")

    result = _start_production(var_dir, DEBUG="0", SECRET_KEY=REAL_KEY)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "False True"


@pytest.mark.parametrize("contents", ["", "\n", DEMO_SECRET_KEY])
def test_a_key_file_that_is_empty_or_holds_the_demo_key_is_refused(var_dir, contents):
    (var_dir / "secret_key").write_text(contents)

    result = _start_production(var_dir, DEBUG="0")

    assert result.returncode != 0
    assert "set SECRET_KEY in the environment" in result.stderr
