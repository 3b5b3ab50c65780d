"""Secrets come only from the environment (or, for SECRET_KEY alone, a demo checkout's var/secret_key:
tests/test_settings.py), and production refuses to start with the demo key.

Settings are read at import, so each case imports them in a fresh interpreter with its own environment,
and an empty var/ of its own: the checkout running the tests may hold a demo's key.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'secret': settings.SECRET_KEY, 'gemini': settings.GEMINI_API_KEY, "
    "'db': settings.DATABASES['default']['NAME'], 'host': settings.DATABASES['default']['HOST'], "
    "'debug': settings.DEBUG}))"
)


def _run(settings_module: str, **environment: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "GEMINI_API_KEY", "DEBUG"}}
    env.update(environment, DJANGO_SETTINGS_MODULE=settings_module)
    with tempfile.TemporaryDirectory() as var_dir:
        env["LEDGERX_VAR_DIR"] = var_dir
        return subprocess.run(
            [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )


def test_secrets_and_the_database_are_read_from_the_environment():
    result = _run(
        "ledgerx.settings.production",
        SECRET_KEY="s3cret-from-the-environment",
        GEMINI_API_KEY="gemini-from-the-environment",
        DATABASE_URL="postgresql://ledgerx@db.internal:5432/ledgerx_prod",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "secret": "s3cret-from-the-environment",
        "gemini": "gemini-from-the-environment",
        "db": "ledgerx_prod",
        "host": "db.internal",
        "debug": False,
    }


def test_production_refuses_the_demo_key_with_debug_off():
    result = _run("ledgerx.settings.production")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_the_demo_key_is_only_for_debug():
    result = _run("ledgerx.settings.production", DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is True


def test_without_a_gemini_key_nothing_is_configured():
    result = _run("ledgerx.settings.production", SECRET_KEY="x" * 50)
    assert json.loads(result.stdout)["gemini"] == ""


@pytest.mark.parametrize(
    "pattern",
    [
        r"AIza[0-9A-Za-z_\-]{35}",  # a Google API key
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
        r"(?i)(secret_key|api_key|password)\s*=\s*[\"'][^\"'$]{24,}[\"']",
    ],
)
def test_no_secret_is_written_into_the_source(pattern):
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = [
        (path, found.group(0))
        for path in tracked
        # Tests hold made-up values on purpose (this file does).
        if not path.startswith("tests/")
        and path.endswith((".py", ".yml", ".yaml", ".conf", ".toml", ".cfg", ".ini", ".env", ".sh", ".json"))
        for found in re.finditer(pattern, (ROOT / path).read_text(errors="replace"))
        # The demo key is public on purpose; production refuses it (above).
        if "demo" not in found.group(0)
    ]
    assert offenders == []
