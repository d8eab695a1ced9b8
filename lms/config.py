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

# Rate limits (Flask-Limiter). "memory://" is per process; use a Redis URL
# (redis://host:6379/0) when several workers or machines serve the app.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
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
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "lms_session"},
        }
    },
}

# Course archives uploaded to POST /api/v1/courses/import.
COURSE_ARCHIVE_MAX_BYTES = 10 * 1024 * 1024

# Invitations: how long a link works, and limits for CSV enrollment files.
INVITATION_TTL = timedelta(days=14)
INVITATION_CSV_MAX_BYTES = 5 * 1024 * 1024
INVITATION_CSV_MAX_ROWS = 20_000
