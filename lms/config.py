"""Default settings.

Order of precedence (later wins): this module, ``instance/config.py``, ``LMS_*`` environment
variables (values are parsed as JSON when they can be, so ``LMS_MAIL_SMTP_PORT=25`` is an int;
text settings such as the secret key, URLs, hosts and passwords always stay text, see
``lms.TEXT_SETTINGS``), and finally the ``test_config`` mapping handed to ``create_app``.
"""

from datetime import timedelta

# "development" or "production". Production refuses to start without SECRET_KEY (at least
# 32 bytes), SQLALCHEMY_DATABASE_URI and BASE_URL set explicitly, and with MAIL_BACKEND "console".
ENV = "development"

# None means: development generates one into instance/secret_key on first start.
SECRET_KEY = None

# How many proxies (load balancer, TLS terminator) stand in front of the app and set
# X-Forwarded-For, -Proto, -Host and -Port. 0: the headers are ignored, the client is the
# connecting address.
TRUSTED_PROXIES = 0

# None means: SQLite file instance/lms.sqlite3 (development only).
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
# A pooled connection idle for longer than this (seconds) is tested with a round trip before a
# request uses it, so the first request after a database restart gets a live one (see
# lms.core.db.ping_idle_connections). None: never test; 0: test every time (pool_pre_ping).
DATABASE_PING_AFTER_IDLE: float | None = 0.2
SQLALCHEMY_RECORD_QUERIES = False

# Absolute URL of the site, used in e-mailed links. None means http://127.0.0.1:5000 in
# development.
BASE_URL = None

# Request bodies larger than this are refused with 413.
MAX_CONTENT_LENGTH = 16 * 1024 * 1024

SESSION_COOKIE_NAME = "lms_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # forced on in production
PERMANENT_SESSION_LIFETIME = timedelta(days=14)
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"

# CSRF (Flask-WTF). WTF_CSRF_ENABLED = False switches it off everywhere (forms and API).
# lms.core.security decides per request which requests need the token (the API's depend on how
# the request authenticated), so Flask-WTF's blanket check is off; exempt a view or blueprint
# with ``csrf.exempt``.
WTF_CSRF_ENABLED = True
WTF_CSRF_CHECK_DEFAULT = False
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

# Logging (lms.core.logs): the root logger's level when lms configures it, which it does only
# if nothing else did (gunicorn's --log-config, a test runner). None leaves logging alone.
# Requests are logged as one JSON line each on the "lms.requests" logger, at INFO.
LOG_LEVEL = "INFO"

# Where pg_dump and pg_restore are (`flask lms backup` / `restore` on PostgreSQL); None: the
# PATH. Use the client of the server's major version or newer.
POSTGRES_BIN_DIR = None

# Rate limits (Flask-Limiter). "process-memory://" (lms.core.ratelimit_storage) is per process;
# use a Redis URL (redis://host:6379/0) when several workers or machines serve the app.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "process-memory://"
RATELIMIT_HEADERS_ENABLED = True
LOGIN_FAILURES_PER_ACCOUNT = "5 per minute"
LOGIN_ATTEMPTS_PER_ADDRESS = "30 per minute"
# Certificate verification (the API and the public page), per client address.
CERTIFICATE_VERIFY_PER_ADDRESS = "60 per minute"

# Passwords. Werkzeug's scrypt by default; tests use a cheaper setting.
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (an algorithm name)
PASSWORD_MIN_LENGTH = 10
PASSWORD_RESET_TTL = timedelta(hours=1)
EMAIL_VERIFICATION_TTL = timedelta(days=2)

# Mail: "file" writes each message as an .eml file into MAIL_DIR (default instance/mail),
# "console" prints it, "smtp" sends it.
MAIL_BACKEND = "file"
MAIL_DIR = None
MAIL_FROM = "lms <no-reply@localhost>"
MAIL_SMTP_HOST = "localhost"
MAIL_SMTP_PORT = 25
MAIL_SMTP_USERNAME = None
MAIL_SMTP_PASSWORD = None
MAIL_SMTP_STARTTLS = False
MAIL_SMTP_SSL = False
MAIL_SMTP_TIMEOUT = 10
# The name this server gives in EHLO; None: BASE_URL's host.
MAIL_SMTP_LOCAL_HOSTNAME = None

# Background work (lms.core.outbox, lms.core.jobs). Without a broker the outbox is drained in
# the web process right after each commit; with one (redis://host:6379/1), Celery workers
# (`celery -A wsgi.celery worker -B`) drain it.
CELERY_BROKER_URL = None
CELERY_BROKER_TIMEOUT = 3  # seconds to reach the broker before a commit's enqueue gives up
CELERY_OPTIONS: dict = {}  # any other Celery setting
OUTBOX_MAX_ATTEMPTS = 12  # with the backoff below: retries over about 34 hours
OUTBOX_RETRY_BASE = timedelta(minutes=1)  # 1, 2, 4, 8, ... minutes between attempts
OUTBOX_LEASE = timedelta(minutes=5)  # a claimed row whose worker died is taken again after this
OUTBOX_SWEEP_SECONDS = 60  # how often beat looks for rows nobody enqueued
OUTBOX_BATCH = 500  # rows one drain task does at most
# Without a broker: earlier due rows (a retry whose time has come) each commit that writes work
# also does, after its own. Few, as they delay that request's answer; 0: only `lms outbox retry`.
OUTBOX_CATCH_UP = 5

# flask-smorest / OpenAPI
API_TITLE = "lms API"
API_VERSION = "v1"
OPENAPI_VERSION = "3.1.0"
OPENAPI_URL_PREFIX = "/api"
OPENAPI_JSON_PATH = "openapi.json"
API_SPEC_OPTIONS = {
    "info": {
        "description": (
            "JSON API of the lms training program. Authenticate with a session cookie "
            "(send the X-CSRFToken header on writes) or a personal API token "
            "(Authorization: Bearer ...)."
        )
    },
    # Each operation names the schemes it accepts (lms.core.openapi): a token, or the session
    # cookie together with the CSRF header on writes; public operations name none.
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal API token (POST /api/v1/me/tokens).",
            },
            "cookieAuth": {
                "type": "apiKey",
                "in": "cookie",
                "name": SESSION_COOKIE_NAME,
                "description": "The session cookie that POST /api/v1/auth/login sets.",
            },
            "csrfToken": {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": (
                    "With the session cookie, writes also send this header: the csrf_token "
                    "of the login answer or of GET /api/v1/auth/csrf."
                ),
            },
        }
    },
}

# Course archives uploaded to POST /api/v1/courses/import.
COURSE_ARCHIVE_MAX_BYTES = 10 * 1024 * 1024

# Organization logos (on the certificates): the upload's size in bytes and in pixels per
# side (an image declaring more is refused before it is decoded), and the box the stored PNG
# is shrunk to fit.
ORGANIZATION_LOGO_MAX_BYTES = 1024 * 1024
ORGANIZATION_LOGO_MAX_SIDE = 4096
ORGANIZATION_LOGO_BOX = 600

# Invitations: how long a link works, and limits for CSV enrollment files.
INVITATION_TTL = timedelta(days=14)
INVITATION_CSV_MAX_BYTES = 5 * 1024 * 1024
INVITATION_CSV_MAX_ROWS = 20_000

# Sponsorships through Stripe (lms.sponsorships). Without STRIPE_SECRET_KEY billing is off: the
# pages say so and manual sponsorships still work. STRIPE_API_VERSION pins the shape of every
# object lms reads (since 2025-03-31 the current period is on the subscription item);
# STRIPE_API_BASE points the library at another server (the tests' localstripe).
STRIPE_SECRET_KEY = None
STRIPE_WEBHOOK_SECRET = None
STRIPE_API_VERSION = "2025-03-31.basil"
STRIPE_API_BASE = None
STRIPE_TIMEOUT = 10  # seconds for one call to Stripe
STRIPE_MAX_NETWORK_RETRIES = 1  # the library retries a failed connection with the same key
STRIPE_WEBHOOK_TOLERANCE = 300  # seconds a signed webhook's timestamp may be old
STRIPE_WEBHOOK_MAX_BYTES = 512 * 1024  # a larger webhook body is refused with 413
# How long a past_due sponsorship keeps its seats after its unpaid period began.
SPONSORSHIP_GRACE_DAYS = 7

# Open Badges 3.0 credentials: the issuer's name, and its Ed25519 key. Without a configured
# key one is generated into instance/issuer-keys/ on first use; retired keys stay published.
CERTIFICATE_ISSUER_NAME = "lms training program"
CERTIFICATE_SIGNING_KEY = None  # PEM of an Ed25519 private key
CERTIFICATE_SIGNING_KEY_NUMBER = 1
CERTIFICATE_RETIRED_PUBLIC_KEYS: dict = {}  # {number: PEM of the public key}
