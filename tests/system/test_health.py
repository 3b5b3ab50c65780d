"""/healthz (the process is alive) and /readyz (PostgreSQL and Redis answer), both without auth."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_answers_without_auth_or_database():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_postgresql_and_redis():
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_readyz_answers_503_when_redis_is_unreachable():
    unreachable = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}}

    with override_settings(CACHES=unreachable):
        response = Client().get("/readyz")

    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["postgresql"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")


def test_readyz_answers_503_when_postgresql_is_unreachable():
    """In a process of its own, so that the suite's database connection is left alone."""
    script = (
        "import django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/readyz', HTTP_HOST='localhost')\n"
        "print(response.status_code)\n"
        "print(response.content.decode())\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerx.settings.test",
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/ledgerx",
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    assert status == "503"
    checks = json.loads(body)["checks"]
    assert checks["postgresql"].startswith("unreachable")
    assert checks["redis"] == "ok"
