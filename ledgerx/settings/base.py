import hashlib
import hmac
from datetime import timedelta

from ledgerx import db_roles

from . import env

BASE_DIR = env.BASE_DIR
SECRET_KEY = env.SECRET_KEY
DEBUG = env.DEBUG
ALLOWED_HOSTS = env.ALLOWED_HOSTS
GEMINI_API_KEY = env.GEMINI_API_KEY
GEMINI_MODEL = env.env_str("GEMINI_MODEL", "gemini-2.5-flash")
REDIS_URL = env.REDIS_URL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "apps.tenancy",
    "apps.budgets",
    "apps.ledger",
    "apps.fx",
    "apps.approvals",
    "apps.controls",
    "apps.spending",
    # After spending: its admin adds the receipts inline to spending's transaction admin.
    "apps.receipts",
    "apps.fraud",
    "apps.system",
    "apps.webhooks",
    "apps.web",
    "apps.nlq",
    "apps.audit",
    "apps.scim",
    "apps.reports",
    "apps.reimbursements",
    "apps.payables",
    "apps.exports",
    "apps.retention",
    "apps.reconciliation",
    "apps.sso",
    "djangosaml2",
    "apps.push",
]

MIDDLEWARE = [
    "ledgerx.body_limit.request_body_limit",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # request.saml_session: the SAML requests in flight, in a cookie of its own (djangosaml2).
    "djangosaml2.middleware.SamlSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session proved a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # A user who must prove a second factor reaches nothing else until they have (apps/web/second_factor.py).
    "apps.web.second_factor.second_factor_gate",
    # Pages and the back office show times in the organization's timezone (apps/web/back_office.py).
    "apps.web.back_office.organization_timezone",
    # Who the request's writes to audited tables are by (ledgerx/audit_context.py).
    "ledgerx.audit_context.request_audit_context",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.tenancy.middleware.login_throttle_status",
]

# The largest request body any route accepts (413 past it, before parsing): ledgerx/body_limit.py.
REQUEST_BODY_MAX_BYTES = env.env_int("REQUEST_BODY_MAX_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
# Receipts (apps/receipts): the largest file, and the routes whose POST may carry one (with room for
# the multipart framing); every other route keeps REQUEST_BODY_MAX_BYTES.
RECEIPT_MAX_BYTES = env.env_int("RECEIPT_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_BODY_OVERHEAD_BYTES = 64 * 1024
UPLOAD_PATHS = (
    r"/api/v1/transactions/[0-9a-fA-F-]{36}/receipts",
    r"/spends/[0-9a-fA-F-]{36}/receipts",
    r"/api/v1/reimbursements",
    r"/claims/",
    # A statement file (apps/reconciliation): a year of a busy card runs past 1 MiB.
    r"/api/v1/statement-sources/[0-9a-fA-F-]{36}/imports",
    r"/admin/reconciliation/statementsource/[0-9a-fA-F-]{36}/import/",
)
# POST /transactions/bulk carries up to 1,000 spends: a typical one is some 150 bytes of JSON, one with
# every field at its longest (a 1,000-character description) some 1.4 kB, so its body may be larger.
BULK_BODY_MAX_BYTES = env.env_int("BULK_BODY_MAX_BYTES", 4 * 1024 * 1024)
BULK_PATHS = (r"/api/v1/transactions/bulk",)
# An image larger than this many pixels is refused before it is decoded (a decompression bomb).
RECEIPT_MAX_PIXELS = env.env_int("RECEIPT_MAX_PIXELS", 40_000_000)
RECEIPTS_PER_SPEND_MAX = 10
# A spend missing its receipt is reminded of at most once in this many hours.
RECEIPT_REMINDER_EVERY_HOURS = env.env_int("RECEIPT_REMINDER_EVERY_HOURS", 24)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "receipts": env.receipts_storage(env.RECEIPTS_STORAGE),
}

ROOT_URLCONF = "ledgerx.urls"
WSGI_APPLICATION = "ledgerx.wsgi.application"
ASGI_APPLICATION = "ledgerx.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# No health check (a `SELECT 1` before each request's first query, a second round trip on the
# spend path): a connection the server dropped fails one request with 503 and Retry-After, and is
# replaced at that request's end.
# The application connects as a role that owns nothing; `migrate` as DATABASE_OWNER (ledgerx/db_roles.py).
_database, DATABASE_OWNER = db_roles.database_settings(
    env.DATABASE_URL,
    env.DATABASE_OWNER_URL,
    env.DATABASE_APP_ROLE,
    SECRET_KEY,
    conn_max_age=60,
    conn_health_checks=False,
)
DATABASES = {"default": _database}
# Dashboards, questions, reports and exports read from a streaming replica while it is less than
# REPLICA_MAX_LAG_SECONDS behind, and from the primary otherwise; money decisions never do
# (ledgerx/replica.py). Its URL names a role the way DATABASE_URL does.
if env.REPLICA_DATABASE_URL:
    DATABASES["replica"] = db_roles.database_settings(
        env.REPLICA_DATABASE_URL, "", env.DATABASE_APP_ROLE, SECRET_KEY, conn_max_age=60, conn_health_checks=False
    )[0]
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["ledgerx.replica.ReportingReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.env_int("REPLICA_MAX_LAG_SECONDS", 5)
REPLICA_CHECK_SECONDS = 1
# psycopg's default (Django turns prepared statements off): only `ledgerx.db.prepared_cursor` binds
# on the server, so only the statements it runs are prepared.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "ledgerx",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
}

AUTH_USER_MODEL = "tenancy.User"
# Argon2id at a measured cost (ledgerx/hashers.py); older hashes are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "ledgerx.hashers.MeasuredArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    # The throttled email-and-password backend, refusing it where the organization requires SSO (apps/sso).
    "apps.sso.backends.SsoAwarePasswordBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user assumes a username field; LedgerX never grants anything to anonymous.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
# Second factors (apps/tenancy/mfa.py). The authenticator app shows this issuer beside the account.
OTP_TOTP_ISSUER = "LedgerX"
# Passkeys are a second factor after the password, never a way in without it.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "LedgerX"
# The site's host name (passkeys are bound to it) and the origins a browser may present them from.
OTP_WEBAUTHN_RP_ID = env.env_str("WEBAUTHN_RP_ID", "localhost")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.env_list("WEBAUTHN_ORIGINS", "http://localhost:8000")
LOGIN_REDIRECT_URL = "/"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times read one way on every page and in the back office: ledgerx/formats.
FORMAT_MODULE_PATH = ["ledgerx.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.VAR_DIR / "staticfiles"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.tenancy.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["ledgerx.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ledgerx.renderers.ORJSONParser"],
    "EXCEPTION_HANDLER": "ledgerx.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LedgerX API",
    "DESCRIPTION": "Multi-tenant corporate spend: budgets, an immutable ledger, fraud review. Contract: api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are public; every operation in it still needs its own credentials.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies here are not partial versions of another body: keep their required fields required.
    "COMPONENT_SPLIT_PATCH": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The docs page's scripts are served from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.tenancy.models.Role",
        "ApproverKindEnum": "apps.approvals.models.ApproverKind",
        "EventTypeEnum": "apps.webhooks.models.EventType",
        # An alert's status is in both the alert and the review answer (spending's FraudReviewOutput).
        "FraudAlertStatusEnum": "apps.fraud.models.FraudAlert.Status",
        "RuleKindEnum": "apps.controls.models.RuleKind",
        # An employee limit may name one of the organization's roles: the tenant roles, not all of Role.
        "SpendRuleRoleEnum": "apps.controls.services.LIMITED_ROLES",
        "FxRateSourceEnum": "apps.fx.models.FxRate.Source",
        # Vendor payments: a bill's derived status, a bank detail change's, a payment run's.
        "BillStatusEnum": "apps.payables.selectors.BillStatus.ALL",
        "VendorBankChangeStatusEnum": "apps.payables.models.VendorBankChange.Status",
        "PaymentRunStatusEnum": "apps.payables.models.PaymentRun.Status",
    },
}

# How long an API token lives, and how long its owner is cached on the request path.
API_TOKEN_TTL = timedelta(hours=env.env_int("API_TOKEN_TTL_HOURS", 24 * 7))

# Rate limits: (requests, window in seconds). Generous by default; tests lower them where they test them.
RATE_LIMIT_LOGIN_PER_IP = (env.env_int("RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE", 300), 60)
RATE_LIMIT_SPEND_PER_USER = (env.env_int("RATE_LIMIT_SPEND_PER_USER_PER_MINUTE", 3000), 60)
# The sign-in throttle (apps/tenancy/login_guard.py): failures counted within the window; past the
# free ones a pair or an address waits 1, 2, 4 ... s up to the block cap; an account, from addresses
# it has not signed in from lately, is only spaced out, by at most the account cap.
LOGIN_THROTTLE_WINDOW_SECONDS = env.env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)
LOGIN_THROTTLE_PAIR_FREE = env.env_int("LOGIN_THROTTLE_PAIR_FREE", 5)
LOGIN_THROTTLE_ADDRESS_FREE = env.env_int("LOGIN_THROTTLE_ADDRESS_FREE", 20)
LOGIN_THROTTLE_ACCOUNT_FREE = env.env_int("LOGIN_THROTTLE_ACCOUNT_FREE", 20)
LOGIN_THROTTLE_MAX_BLOCK_SECONDS = env.env_int("LOGIN_THROTTLE_MAX_BLOCK_SECONDS", 15 * 60)
LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS = env.env_int("LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS", 30)
LOGIN_KNOWN_ADDRESS_DAYS = env.env_int("LOGIN_KNOWN_ADDRESS_DAYS", 30)
# How many proxies of ours stand in front of the web processes (nginx: 1); 0 trusts REMOTE_ADDR alone.
TRUSTED_PROXY_COUNT = env.env_int("TRUSTED_PROXY_COUNT", 0)

CELERY_BROKER_URL = env.celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # The spend workflow's tasks keep the names they had before apps/spending (see its tasks.py).
    "apps.ledger.tasks.settle_pending": {"queue": "settlement"},
    "apps.ledger.tasks.sweep_pending_transactions": {"queue": "settlement"},
    "apps.approvals.tasks.expire_approvals": {"queue": "default"},
    # Sealing is background work, off the payment queue.
    "apps.ledger.tasks.seal_ledger": {"queue": "default"},
    "apps.ledger.tasks.write_balance_checkpoints": {"queue": "default"},
    "apps.audit.tasks.seal_audit_log": {"queue": "default"},
    "apps.budgets.tasks.*": {"queue": "default"},
    "apps.fraud.tasks.*": {"queue": "fraud"},
    # Webhook requests wait on other people's servers: they have a queue and worker of their own.
    "apps.webhooks.tasks.deliver": {"queue": "webhooks"},
    "apps.tenancy.tasks.*": {"queue": "default"},
    "apps.receipts.tasks.*": {"queue": "default"},
}
# A message unacked this long is redelivered; settlement is idempotent, so that is safe.
# A broker that cannot be reached fails a publish within seconds; the sweeps queue the work later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300, "socket_connect_timeout": 2}
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-transactions": {
        "task": "apps.ledger.tasks.sweep_pending_transactions",
        "schedule": 5.0,
    },
    "expire-approvals": {
        "task": "apps.approvals.tasks.expire_approvals",
        "schedule": 60.0,
    },
    "seal-ledger": {
        "task": "apps.ledger.tasks.seal_ledger",
        "schedule": 10.0,
    },
    # A minute apart, as balance_checkpoints.CUT_MARGIN: a balance reads at most a couple of minutes of entries.
    "write-balance-checkpoints": {
        "task": "apps.ledger.tasks.write_balance_checkpoints",
        "schedule": 60.0,
    },
    # Hourly: next month's partition is made a month ahead, and this month's ids begin within the hour.
    "roll-entry-partitions": {
        "task": "apps.ledger.tasks.roll_entry_partitions",
        "schedule": 3600.0,
    },
    "seal-audit-log": {
        "task": "apps.audit.tasks.seal_audit_log",
        "schedule": 10.0,
    },
    "rollover-budgets": {
        "task": "apps.budgets.tasks.rollover_budgets",
        "schedule": 3600.0,
    },
    "sweep-webhooks": {
        "task": "apps.webhooks.tasks.sweep_webhooks",
        "schedule": 5.0,
    },
    "purge-webhook-outbox": {
        "task": "apps.webhooks.tasks.purge_webhook_outbox",
        "schedule": 3600.0,
    },
    "sweep-unscored-transactions": {
        "task": "apps.fraud.tasks.sweep_unscored_transactions",
        "schedule": 30.0,
    },
    # Drafts only: a person releases each run (apps/payables payment_runs.scheduled_runs_draft).
    "draft-scheduled-payment-runs": {
        "task": "apps.payables.tasks.draft_scheduled_payment_runs",
        "schedule": 3600.0,
    },
    "remind-missing-receipts": {
        "task": "apps.receipts.tasks.remind_missing_receipts",
        "schedule": 3600.0,
    },
    "sweep-receipts": {
        "task": "apps.receipts.tasks.sweep_receipts",
        "schedule": 300.0,
    },
    "prune-login-throttle": {
        "task": "apps.tenancy.tasks.prune_login_throttle",
        "schedule": 3600.0,
    },
}

# A spend still pending after this long is re-queued by the sweeper.
SETTLEMENT_SWEEP_AFTER_SECONDS = env.env_int("SETTLEMENT_SWEEP_AFTER_SECONDS", 5)
# Most spends one settlement transaction claims; light traffic settles one at a time, unbatched.
SETTLEMENT_BATCH_SIZE = env.env_int("SETTLEMENT_BATCH_SIZE", 1000)
SETTLEMENT_MAX_RETRIES = env.env_int("SETTLEMENT_MAX_RETRIES", 8)
# Signs the ledger's chain checkpoints. Production should set a key of its own and keep it outside
# the database (a secret store, the environment): with it, the database owner could forge them.
# Unset, a key derived from SECRET_KEY.
LEDGER_CHECKPOINT_KEY = (
    env.env_str("LEDGER_CHECKPOINT_KEY", "")
    or hmac.new(SECRET_KEY.encode(), b"ledgerx ledger checkpoint key", hashlib.sha256).hexdigest()
)
# Financial records are kept this many years after the end of their year; a year older than that
# may be archived by `archive_year` (docs/operations.md, Retention).
RETENTION_YEARS = env.env_int("RETENTION_YEARS", 7)
# A spend awaiting approval this long is rejected and its hold released.
APPROVAL_EXPIRY_HOURS = env.env_int("APPROVAL_EXPIRY_HOURS", 72)
# Past this many pending spends the API answers 503 with Retry-After instead of falling over.
INGEST_BACKLOG_LIMIT = env.env_int("INGEST_BACKLOG_LIMIT", 200_000)
INGEST_BACKLOG_CHECK_SECONDS = 1.0
# A spend in another currency is converted at the rate of its day in the organization's timezone or, when
# that day has none (a weekend, a holiday: the ECB publishes on TARGET business days only), the latest
# within this many days before it; past that it is refused, never guessed. 4 covers Easter's Good
# Friday to Easter Monday closing.
FX_RATE_MAX_AGE_DAYS = env.env_int("FX_RATE_MAX_AGE_DAYS", 4)
# How long a process answers acceptance from the spend policy it read (settlement always reads it afresh).
SPEND_POLICY_CACHE_SECONDS = env.env_int("SPEND_POLICY_CACHE_SECONDS", 5)

EMAIL_BACKEND = env.env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", "LedgerX <noreply@ledgerx.local>")
# Seconds an SMTP connection may block: invitations are sent inside the request that makes them.
EMAIL_TIMEOUT = env.env_int("EMAIL_TIMEOUT", 10)
# How long an invitation's link opens the page that makes the invitee's user (apps/tenancy/invitations.py).
INVITATION_TTL = timedelta(seconds=env.env_int("INVITATION_TTL_SECONDS", 7 * 24 * 3600))

# Web Push (apps/push): the server's VAPID private key (raw or DER, base64url; unset: no push is sent),
# the contact push services may write to, and the only push services the server will call.
PUSH_VAPID_PRIVATE_KEY = env.env_str("PUSH_VAPID_PRIVATE_KEY", "")
PUSH_VAPID_SUBJECT = env.env_str("PUSH_VAPID_SUBJECT", "mailto:admin@ledgerx.local")
PUSH_SERVICE_HOSTS = env.env_list(
    "PUSH_SERVICE_HOSTS", "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com"
)
PUSH_ALLOW_PLAIN_HTTP = env.env_bool("PUSH_ALLOW_PLAIN_HTTP", False)
PUSH_TTL_SECONDS = env.env_int("PUSH_TTL_SECONDS", 24 * 3600)
PUSH_TIMEOUT_SECONDS = env.env_int("PUSH_TIMEOUT_SECONDS", 5)

# Single sign-on (apps/sso): IdP metadata and OIDC discovery are fetched only from public addresses
# unless this is set; SAML signatures are checked by Debian's xmlsec1 (deploy/ensure_xmlsec.sh).
SSO_ALLOW_PRIVATE_URLS = env.env_bool("SSO_ALLOW_PRIVATE_URLS", False)
SSO_FETCH_TIMEOUT_SECONDS = env.env_int("SSO_FETCH_TIMEOUT_SECONDS", 10)
SSO_FETCH_MAX_BYTES = env.env_int("SSO_FETCH_MAX_BYTES", 1024 * 1024)
SSO_XMLSEC_BINARY = env.env_str("SSO_XMLSEC_BINARY", "/usr/bin/xmlsec1")
# djangosaml2: each organization's service provider is built from its SsoConfiguration row.
SAML_CONFIG_LOADER = "apps.sso.saml.sp_config_for_request"
SAML_SESSION_COOKIE_NAME = "saml_session"
# Empty: djangosaml2's views leave the Content-Security-Policy alone (LedgerX does not use django-csp,
# which djangosaml2 otherwise looks for, and warns about, at every start).
SAML_CSP_HANDLER = ""

# Webhooks. Private, loopback and reserved receiver addresses are refused unless allowed here.
WEBHOOKS_ALLOW_PRIVATE_URLS = env.env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)
WEBHOOKS_TIMEOUT_SECONDS = env.env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_MAX_ATTEMPTS = env.env_int("WEBHOOKS_MAX_ATTEMPTS", 10)
WEBHOOKS_RETRY_BASE_SECONDS = env.env_int("WEBHOOKS_RETRY_BASE_SECONDS", 10)
WEBHOOKS_RETRY_MAX_SECONDS = env.env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_DISABLE_AFTER_FAILURES = env.env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 25)
# An event not dispatched this long after it was raised is picked up by the sweep (a delivery, as
# soon as no lease holds it: docs/operations.md, "Webhooks").
WEBHOOKS_SWEEP_AFTER_SECONDS = env.env_int("WEBHOOKS_SWEEP_AFTER_SECONDS", 10)
# Fairness: at most this many deliveries of one tenant in flight at once (one per endpoint, always).
WEBHOOKS_TENANT_MAX_IN_FLIGHT = env.env_int("WEBHOOKS_TENANT_MAX_IN_FLIGHT", 4)
# A receiver whose p95 latency over its last WEBHOOKS_SLOW_WINDOW attempts is over this is slow:
# reported, and each of its attempts starts WEBHOOKS_SLOW_SPACING_SECONDS after the last one ended.
WEBHOOKS_SLOW_P95_MS = env.env_int("WEBHOOKS_SLOW_P95_MS", 2000)
WEBHOOKS_SLOW_WINDOW = env.env_int("WEBHOOKS_SLOW_WINDOW", 20)
WEBHOOKS_SLOW_SPACING_SECONDS = env.env_int("WEBHOOKS_SLOW_SPACING_SECONDS", 5)
# Events, and their delivery log, are kept this long once nothing is left to send.
WEBHOOKS_RETENTION_DAYS = env.env_int("WEBHOOKS_RETENTION_DAYS", 30)

# Fraud scoring: spends per scoring task; the sweep scores settled spends left unscored this long
# after settling (a lost message), looking back this far, at most this many per organization a run.
FRAUD_SCORING_BATCH_SIZE = env.env_int("FRAUD_SCORING_BATCH_SIZE", 200)
FRAUD_SWEEP_AFTER_SECONDS = env.env_int("FRAUD_SWEEP_AFTER_SECONDS", 30)
FRAUD_SWEEP_LOOKBACK_HOURS = env.env_int("FRAUD_SWEEP_LOOKBACK_HOURS", 48)
FRAUD_SWEEP_LIMIT = 5000

# Receipt reading (apps/receipts/reading.py) flags a total further from the spend than this percent
# (or one unit of the currency, whichever is larger), and a date further than this many days from it.
RECEIPT_AMOUNT_TOLERANCE_PERCENT = env.env_int("RECEIPT_AMOUNT_TOLERANCE_PERCENT", 1)
RECEIPT_DATE_TOLERANCE_DAYS = env.env_int("RECEIPT_DATE_TOLERANCE_DAYS", 7)

# Books exports (apps/exports): the tax rate every line of the Xero manual journal file names (Xero's import
# requires one, by its name in the organization's Xero tax settings; card spend is entered without tax).
EXPORTS_XERO_TAX_RATE = env.env_str("EXPORTS_XERO_TAX_RATE", "Tax Exempt")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pysaml2 and sepaxml load the same meta-schema, and xmlschema says so at INFO on every start.
        "xmlschema": {"level": "WARNING"},
    },
}
