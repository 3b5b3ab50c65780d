"""The deployed web server (`python -m ledgerx.web`): its settings, the request limits it answers in the
error shape, the process environment kept out of requests, and a killed worker replaced."""

import json
import multiprocessing
import os
import signal
import socket
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from granian.constants import HTTPModes, Interfaces

from ledgerx import web
from tests.processes import process_env, start_web, stop, wait_until


def _called(environ: dict) -> tuple[str, dict, bytes]:
    """What the wrapped application answers to `environ`: status, headers, body ("app" if it was reached)."""
    answered: dict = {}

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"app"]

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    body = b"".join(web.within_request_limits(app)(environ, start_response))
    return answered["status"], answered["headers"], body


def _environ(path: str = "/api/v1/me", **headers: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "ledgerx.example",
        **headers,
    }


def test_one_worker_per_core_two_threads_each_by_default():
    options = web.options({})
    assert (options["workers"], options["blocking_threads"]) == (multiprocessing.cpu_count(), 2)
    assert (options["address"], options["port"]) == ("0.0.0.0", 8000)
    assert (options["interface"], options["http"]) == (Interfaces.WSGI, HTTPModes.http1)
    assert options["respawn_failed_workers"] is True  # a worker killed is replaced
    assert options["target"] == "ledgerx.web:served_application" and options["factory"] is True


def test_the_environment_sets_bind_workers_threads_and_access_log():
    options = web.options({"WEB_BIND": "[::]:9000", "WEB_WORKERS": "3", "WEB_THREADS": "4", "WEB_ACCESS_LOG": "1"})
    assert (options["address"], options["port"], options["workers"], options["blocking_threads"]) == ("::", 9000, 3, 4)
    assert options["log_access"] is True


def test_a_request_within_the_limits_reaches_the_application():
    fields = {f"HTTP_X_FIELD_{index}": "v" for index in range(web.HEADER_FIELDS_MAX - 1)}
    assert _called(_environ("/" + "a" * 4000, **fields))[2] == b"app"


@pytest.mark.parametrize(
    ("environ", "status", "message"),
    [
        (_environ("/" + "a" * 5000), "414 URI Too Long", "URI Too Long: the request line is 5,014 bytes, over 4,094"),
        # Quoted again, as the client sent it: 1,500 spaces are 4,500 bytes on the wire.
        (_environ("/" + " " * 1500), "414 URI Too Long", "URI Too Long: the request line is 4,514 bytes"),
        (
            _environ(**{f"HTTP_X_FIELD_{index}": "v" for index in range(web.HEADER_FIELDS_MAX)}),
            "431 Request Header Fields Too Large",
            "65 header fields, over 64",
        ),
        (
            _environ(HTTP_X_BIG="v" * 8190),
            "431 Request Header Fields Too Large",
            "a header field is over 8,190 bytes",
        ),
    ],
)
def test_a_request_over_the_limits_is_answered_in_the_error_shape(environ, status, message):
    answered_status, headers, body = _called(environ)
    assert answered_status == status
    assert headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) == len(body)
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and message in error["message"]


def test_what_the_process_environment_put_in_a_request_is_taken_out():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return []

    inherited = {"SECRET_KEY": "not-for-requests", "DATABASE_URL": "postgresql://app:password@db/ledgerx"}
    environ = {**inherited, **_environ(HTTP_X_REQUEST="kept"), "DATABASE_URL": "the request's own"}
    web.without_process_environment(app, inherited)(environ, lambda *args: None)
    assert "SECRET_KEY" not in seen
    assert seen["HTTP_X_REQUEST"] == "kept" and seen["DATABASE_URL"] == "the request's own"


def _workers(process) -> set[int]:
    return {
        int(pid)
        for children in Path(f"/proc/{process.pid}/task").glob("*/children")
        for pid in children.read_text().split()
    }


def _listening(port: int) -> int:
    """How many sockets listen on `port`: one a worker, each its own, opened once its application is loaded."""
    listen = "0A"
    return sum(
        1
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == listen
    )


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_served_server_answers_a_long_request_line_in_the_error_shape_and_replaces_a_killed_worker():
    web_process, base_url = start_web(process_env(settings.REDIS_URL), threads=1, workers=2)
    try:
        host, port = base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414") and b"content-type: application/json" in head.lower()
        assert json.loads(body)["error"]["code"] == "bad_request"

        assert wait_until(lambda: len(_workers(web_process)) == 2 and _listening(int(port)) == 2, timeout=30)
        killed = min(_workers(web_process))
        os.kill(killed, signal.SIGKILL)
        assert wait_until(lambda: len(_workers(web_process) - {killed}) == 2, timeout=30), "no worker replaced it"
        # Stopped while loading the application, a worker would miss SIGTERM and be killed only after 20 s.
        assert wait_until(lambda: _listening(int(port)) == 2, timeout=60), "the new worker never listened"
        assert all(_answers(base_url) for _ in range(10))
    finally:
        stop(web_process)
