from .base import *  # noqa: F403

# Ledger entries refuse TRUNCATE; this backend lifts that for the test database flush only.
DATABASES["default"]["ENGINE"] = "tests.pg_backend"  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SETTLEMENT_SWEEP_AFTER_SECONDS = 1
# Nothing calls the internet in tests: the Gemini parser is tested on recorded outputs.
GEMINI_API_KEY = ""
