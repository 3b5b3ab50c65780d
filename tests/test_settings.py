"""Production settings refuse to start with DEBUG off and the demo secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerx.settings.env import DEMO_SECRET_KEY

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SETUP = (
    "import django\n"
    "django.setup()\n"
    "from django.conf import settings\n"
    "print(settings.DEBUG, settings.SECRET_KEY == 'a-real-secret-key-from-the-environment-0123456789')\n"
    "print(settings.PASSWORD_HASHERS[0])\n"
)


def _start_production(**environment: str) -> subprocess.CompletedProcess:
    """Import Django with the production settings in a fresh process, as a server would."""
    inherited = {name: value for name, value in os.environ.items() if name not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        cwd=PROJECT_ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production", **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_without_a_secret_key_refuses_to_start_and_says_why():
    result = _start_production(DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is empty or the demo key while DEBUG is off: set SECRET_KEY in the environment." in result.stderr


@pytest.mark.parametrize("secret_key", [DEMO_SECRET_KEY, ""])
def test_production_with_the_demo_key_or_an_empty_one_refuses_to_start(secret_key):
    result = _start_production(DEBUG="0", SECRET_KEY=secret_key)

    assert result.returncode != 0
    assert "set SECRET_KEY in the environment" in result.stderr


def test_production_with_a_secret_key_starts_with_debug_off_and_argon2id_password_hashing():
    result = _start_production(DEBUG="0", SECRET_KEY="a-real-secret-key-from-the-environment-0123456789")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["False True", "ledgerx.hashers.MeasuredArgon2Hasher"]
