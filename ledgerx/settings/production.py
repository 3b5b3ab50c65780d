"""Production: secure by default. LedgerX is served over HTTPS, with TLS ended at the documented proxy
(deploy/nginx.conf, which sets X-Forwarded-Proto); `manage.py check --deploy` is clean with these."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import DEMO_SECRET_KEY, SECRET_KEY_FILE, env_bool, env_int

if not DEBUG and SECRET_KEY in ("", DEMO_SECRET_KEY):  # noqa: F405
    raise ImproperlyConfigured(
        "SECRET_KEY is empty or the demo key while DEBUG is off: set SECRET_KEY in the environment. "
        f"(In a demo checkout it is read from {SECRET_KEY_FILE}, which `make demo` writes.)"
    )

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# A trial over plain HTTP (docker-compose without TLS in front) sets SECURE_SSL_REDIRECT=0.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes call the web processes directly over plain HTTP, from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# The header only allows a submission to the browsers' preload list; the domain's owner decides to submit.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Trusted only behind our own proxy, which overwrites the header with the scheme it was reached by.
if TRUSTED_PROXY_COUNT:  # noqa: F405
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
