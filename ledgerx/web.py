"""The web server: granian's WSGI server, one worker per core, two threads each (`python -m ledgerx.web`).

Read from the environment: WEB_BIND (host:port, default 0.0.0.0:8000), WEB_WORKERS (default one per
core), WEB_THREADS (default 2), WEB_ACCESS_LOG (set to anything: log every request to stderr).

granian replaced gunicorn with a gthread worker of ours that left each new connection to an idle
sibling while its threads were busy (issue 20): one interleaved `make bench` spell could not tell
them apart in throughput or latency, and granian spent about a tenth less web CPU a request
(docs/benchmarks.md). Each granian worker listens on a socket of its own (SO_REUSEPORT), so the
kernel spreads new connections over the workers by a hash of their addresses, busy or not; a
kept-alive connection stays with its worker. 64 connections opened at once split 40/24 at worst
in eight tries (stock gthread: 61/3 to 43/21).

Workers x threads, measured with gunicorn on the 2-core machine (POST /transactions, 64 clients):
fewer processes cost less CPU per request, and one thread per worker did as well on this short
request but would let one slow request (a large report, a database or Redis timeout) hold up a
whole core's traffic; a second thread costs little.

Each worker imports the application itself, after forking (`served_application`): a worker that is
respawned (granian respawns one that died) costs about 2 s of CPU while the others carry its
traffic. Stop with SIGTERM: workers finish what they are answering, for up to 20 s.
"""

import gc
import importlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from granian import Granian
from granian.constants import HTTPModes, Interfaces

# Stated limits on a request's head, answered in the API's error shape before Django. hyper, under
# granian, parses at most 100 header fields and a head of about 400 KB; beyond that, or for a request
# it cannot parse, it answers 400 or 431 itself, without a body.
REQUEST_LINE_MAX_BYTES = 4094
HEADER_FIELDS_MAX = 64
HEADER_FIELD_MAX_BYTES = 8190

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _refusal(environ: Mapping[str, Any]) -> tuple[str, str] | None:
    # The request line as the client sent it, near enough: the path quoted again, as Django does.
    uri = quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"), safe="/:@!$&'()*+,;=~")
    if query := environ.get("QUERY_STRING", ""):
        uri += f"?{query}"
    line = f"{environ.get('REQUEST_METHOD', '')} {uri} {environ.get('SERVER_PROTOCOL', '')}"
    if len(line) > REQUEST_LINE_MAX_BYTES:
        return "414 URI Too Long", f"the request line is {len(line):,} bytes, over {REQUEST_LINE_MAX_BYTES:,}"
    fields = {
        key.removeprefix("HTTP_"): value
        for key, value in environ.items()
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    }
    if len(fields) > HEADER_FIELDS_MAX:
        return "431 Request Header Fields Too Large", f"{len(fields)} header fields, over {HEADER_FIELDS_MAX}"
    for name, value in fields.items():
        if len(name) + 2 + len(value) > HEADER_FIELD_MAX_BYTES:
            return "431 Request Header Fields Too Large", f"a header field is over {HEADER_FIELD_MAX_BYTES:,} bytes"
    return None


def within_request_limits(app: WSGIApp) -> WSGIApp:
    """Answer a request over the stated limits 414 or 431, in the error shape, without calling `app`."""
    from ledgerx.errors import error_body

    def checked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = _refusal(environ)
        if refusal is None:
            return app(environ, start_response)
        status, detail = refusal
        body = json.dumps(error_body("bad_request", f"{status[4:]}: {detail}")).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return checked


def without_process_environment(app: WSGIApp, inherited: Mapping[str, str]) -> WSGIApp:
    """Drop from each request's environ what granian copied into it from the process's environment.

    granian starts every environ from os.environ, as CGI did: SECRET_KEY and DATABASE_URL would be
    in every request.META, and in whatever ever prints it.
    """

    def stripped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for key, value in inherited.items():
            if environ.get(key) == value:
                del environ[key]
        return app(environ, start_response)

    return stripped


def served_application() -> WSGIApp:
    """The application as each worker serves it; granian calls this in the worker, after forking."""
    from django.conf import settings

    from ledgerx.wsgi import application

    # What a first request would import (the URLconf, and through it every view), before any request.
    importlib.import_module(settings.ROOT_URLCONF)
    # About 230,000 objects from loading, which a full collection would otherwise walk for about
    # 160 ms every few thousand requests, stalling the worker's requests meanwhile.
    gc.collect()
    gc.freeze()
    return without_process_environment(within_request_limits(application), dict(os.environ))


def options(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    host, _, port = environ.get("WEB_BIND", "0.0.0.0:8000").rpartition(":")
    return {
        "target": "ledgerx.web:served_application",
        "factory": True,
        "address": host.strip("[]"),
        "port": int(port),
        "interface": Interfaces.WSGI,
        "http": HTTPModes.http1,  # behind nginx, which speaks HTTP/1.1 to its upstream
        "websockets": False,
        "workers": int(environ.get("WEB_WORKERS") or multiprocessing.cpu_count()),
        "blocking_threads": int(environ.get("WEB_THREADS") or 2),
        "backlog": 2048,
        "respawn_failed_workers": True,
        "workers_kill_timeout": 20,
        "log_access": bool(environ.get("WEB_ACCESS_LOG")),
    }


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerx.settings.production")
    django.setup()
    from ledgerx.pooling import TransactionPoolingError, require_session_pooling

    try:
        require_session_pooling()
    except TransactionPoolingError as error:
        raise SystemExit(f"ledgerx.web will not start: {error}") from None
    Granian(**options()).serve()


if __name__ == "__main__":
    main()
