from .base import *  # noqa: F403

# Ledger entries refuse TRUNCATE; this backend lifts that for the test database flush only.
DATABASES["default"]["ENGINE"] = "tests.pg_backend"  # noqa: F405
# Connections closed after each request, unless a test's server process keeps them as production does.
DATABASES["default"]["CONN_MAX_AGE"] = env.env_int("TEST_CONN_MAX_AGE", 0)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SETTLEMENT_SWEEP_AFTER_SECONDS = 1
INGEST_BACKLOG_CHECK_SECONDS = 0
WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the tests' receivers listen on 127.0.0.1
SSO_ALLOW_PRIVATE_URLS = True  # the tests' identity providers too
PUSH_SERVICE_HOSTS = [*PUSH_SERVICE_HOSTS, "127.0.0.1"]  # noqa: F405 - the tests' push service listens there
PUSH_ALLOW_PLAIN_HTTP = True
WEBHOOKS_RETRY_BASE_SECONDS = 0.05
WEBHOOKS_SWEEP_AFTER_SECONDS = 1
# Nothing calls the internet in tests: the Gemini parser is tested on recorded outputs.
GEMINI_API_KEY = ""
