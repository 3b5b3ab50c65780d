"""A WSGI app for the gunicorn worker test: answers the worker's pid after `?sleep=` seconds (default 0.02)."""

import os
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    time.sleep(float(parse_qs(environ.get("QUERY_STRING", "")).get("sleep", ["0.02"])[0]))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
