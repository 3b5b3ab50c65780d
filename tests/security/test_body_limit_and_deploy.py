"""Bodies are bounded at the web tier (413 in the error shape, before parsing), and the production
settings are secure by default."""

import http.client
import json
import os
import subprocess

import pytest
from django.test import Client

from tests.processes import BIN, ROOT, process_env, start_web, stop

LIMIT = 1024 * 1024


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/transactions", "/login/", "/admin/login/"])
def test_a_body_over_the_limit_is_refused_with_413_before_anything_parses_it(path):
    response = Client().generic("POST", path, b"{" + b" " * LIMIT + b"}", content_type="application/json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "1,048,576" in error["message"]


@pytest.mark.django_db
def test_a_body_at_the_limit_reaches_the_view(tenant):
    body = json.dumps({"email": tenant.admin.email, "password": "x" * 200}).encode()
    response = Client().generic("POST", "/api/v1/auth/token", body.ljust(LIMIT), content_type="application/json")
    assert response.status_code == 401  # parsed and answered by the view


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_refused_by_a_real_server():
    web, base_url = start_web(process_env(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")))
    try:
        host, port = base_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        chunks = (b"x" * 65536 for _ in range(LIMIT // 65536 + 2))
        connection.request(
            "POST",
            "/api/v1/auth/token",
            body=chunks,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "too_large"
    finally:
        stop(web)


def test_manage_py_check_deploy_is_clean_with_the_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ledgerx.settings.production",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-0123456789",
        "TRUSTED_PROXY_COUNT": "1",
    }
    checked = subprocess.run(
        [str(BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    probe = subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
            "s.SECURE_PROXY_SSL_HEADER)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.stdout.split(None, 4) == ["True", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO', 'https')\n"]
