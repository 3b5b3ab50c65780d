"""`make bench`: production settings plus the bare baseline endpoint the ingest path is compared with."""

from .production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The bench talks plain HTTP to the web server on the loopback, with no TLS proxy in front.
SECURE_SSL_REDIRECT = False
