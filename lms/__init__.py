"""lms: the backend of an OSPO training program."""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms import config as default_config
from lms.core.transaction import LmsFlask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "BASE_URL")
MIN_SECRET_KEY_BYTES = 32
MAIL_BACKENDS = ("file", "console", "smtp")

# LMS_* variables are parsed as JSON so that numbers and booleans get their type. Text settings
# stay text even when they look like JSON: a secret key of digits is not a number, a password
# of "true" is not a boolean. These are the settings whose default is a string, plus the text
# settings without a default.
TEXT_SETTINGS = frozenset(
    {
        name
        for name, value in vars(default_config).items()
        if name.isupper() and isinstance(value, str)
    }
    | {
        "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "BASE_URL",
        "MAIL_DIR",
        "MAIL_SMTP_USERNAME",
        "MAIL_SMTP_PASSWORD",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_BASE",
        "CERTIFICATE_SIGNING_KEY",
        "MAIL_SMTP_LOCAL_HOSTNAME",
        "POSTGRES_BIN_DIR",
    }
)


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to set it."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, instance/config.py, LMS_* variables, test_config.

    The instance folder is ``instance/`` at the project root unless ``LMS_INSTANCE_PATH``
    names another one.
    """
    instance_path = os.environ.get("LMS_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = LmsFlask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    load_environment(app.config)
    if test_config:
        app.config.update(test_config)
    finalize_config(app)
    app.json.sort_keys = False  # keep the field order the output schemas declare
    trust_proxies(app)

    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    from lms.core.logs import init_logging

    init_logging(app)  # last: it reads the routes
    return app


def load_environment(config) -> None:
    """``LMS_<NAME>`` variables: JSON values where they parse, text settings always as text."""
    config.from_prefixed_env("LMS")
    for name in TEXT_SETTINGS:
        value = os.environ.get(f"LMS_{name}")
        if value is not None:
            config[name] = value


def finalize_config(app: Flask) -> None:
    config = app.config
    production = config["ENV"] == "production"
    if config["MAIL_BACKEND"] not in MAIL_BACKENDS:
        raise ConfigurationError("LMS_MAIL_BACKEND must be one of: file, console, smtp.")
    if production:
        missing = [key for key in REQUIRED_IN_PRODUCTION if not config.get(key)]
        if missing:
            names = ", ".join(f"LMS_{key}" for key in missing)
            raise ConfigurationError(
                f"lms cannot start in production without {names}. Set them in the environment "
                "or in instance/config.py (see instance/config.example.py)."
            )
        _check_production_secret_key(config["SECRET_KEY"])
        if config["MAIL_BACKEND"] == "console":
            # The console backend writes whole messages, password reset and invitation links
            # included, into the log.
            raise ConfigurationError(
                "LMS_MAIL_BACKEND=console is for development only: it writes password reset "
                "and invitation links into the log. Use smtp (or file) in production."
            )
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
        # SQLAlchemy puts a statement's parameters (emails, hashes) into its error messages,
        # and those end up in the log of a 500 or 503.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "hide_parameters": True,
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    else:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        if not config.get("SECRET_KEY"):
            config["SECRET_KEY"] = _development_secret_key(Path(app.instance_path))
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            db_path = Path(app.instance_path) / "lms.sqlite3"
            config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
        if not config.get("BASE_URL"):
            config["BASE_URL"] = "http://127.0.0.1:5000"
    if not config.get("MAIL_DIR"):
        config["MAIL_DIR"] = str(Path(app.instance_path) / "mail")
    for key in ("OUTBOX_RETRY_BASE", "OUTBOX_LEASE"):
        if isinstance(config[key], int | float):  # seconds, as environment variables give them
            config[key] = timedelta(seconds=config[key])
    hops = config["TRUSTED_PROXIES"]
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise ConfigurationError(
            "LMS_TRUSTED_PROXIES is the number of proxies in front of the app (0, 1, 2, ...)."
        )


def _check_production_secret_key(key) -> None:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if not isinstance(raw, bytes) or len(raw) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"LMS_SECRET_KEY must be a string of at least {MIN_SECRET_KEY_BYTES} bytes in "
            'production; make one with: python -c "import secrets; print(secrets.token_hex())"'
        )


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, take the client's address, scheme, host and port from
    the X-Forwarded-* headers those proxies set (Werkzeug's ProxyFix). With 0 (the default)
    the headers are ignored: anyone can send them."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _development_secret_key(instance: Path) -> str:
    """Generate a secret key once into instance/secret_key and reuse it afterwards.

    Several workers may start at once: the key is written to a temporary file and linked
    into place, which fails for every worker but the first; all then read the same key.
    """
    key_file = instance / "secret_key"
    if not key_file.exists():
        import secrets

        fd, tmp = tempfile.mkstemp(dir=instance)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return key_file.read_text().strip()


def register_extensions(app: Flask) -> None:
    from lms.accounts import services as account_services
    from lms.core import auth
    from lms.core.db import ping_idle_connections
    from lms.core.errors import register_error_handlers
    from lms.core.extensions import api, csrf, db, limiter, login_manager, migrate
    from lms.core.inputs import init_inputs
    from lms.core.jobs import init_celery
    from lms.core.openapi import init_openapi
    from lms.core.security import drop_idle_limit_check, init_security

    init_inputs(app)  # first: routes pick their converters when they are added
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            ping_idle_connections(engine, app.config["DATABASE_PING_AFTER_IDLE"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    drop_idle_limit_check(app)
    api.init_app(app)
    # After api.init_app: our handlers replace flask-smorest's JSON-only one.
    register_error_handlers(app)
    init_openapi(app)  # after api.init_app, before the blueprints register their schemas
    init_security(app)
    init_celery(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Log in to see this page."
    from lms.web.navigation import send_to_login

    login_manager.unauthorized_handler(send_to_login)
    login_manager.user_loader(auth.load_user_from_session)
    login_manager.request_loader(auth.load_user_from_request)
    auth.session_user_loader = account_services.load_session_user
    auth.token_user_loader = account_services.user_for_api_token

    # Later packages plug into earlier ones here, so that imports only point one way.
    from lms.courses import services as course_services
    from lms.memberships import acceptance, invitations

    invitations.known_courses = course_services.published_slugs
    # Connecting twice (one app per test) is harmless: blinker keeps one connection.
    acceptance.invitation_accepted.connect(_enroll_on_acceptance, weak=False)
    account_services.profile_renamed.connect(_rename_learner, weak=False)
    from lms.certificates import wiring as certificates

    certificates.init_app(app)


def _enroll_on_acceptance(invitation, member, **extra) -> None:
    from lms.progress.enrolling import enroll_from_invitation

    enroll_from_invitation(invitation, member)


def _rename_learner(user, **extra) -> None:
    from lms.progress.enrolling import rename_learner

    rename_learner(user)


def register_blueprints(app: Flask) -> None:
    from lms.accounts.api import blp as accounts_api
    from lms.accounts.views import bp as accounts_views
    from lms.certificates.api import blp as certificates_api
    from lms.certificates.views import bp as certificates_views
    from lms.core.extensions import api
    from lms.courses.api import blp as courses_api
    from lms.courses.views import bp as courses_views
    from lms.memberships.api import blp as memberships_api
    from lms.memberships.views import bp as memberships_views
    from lms.progress.api import blp as progress_api
    from lms.progress.views import bp as progress_views
    from lms.sponsorships.api import blp as sponsorships_api
    from lms.sponsorships.api import webhook_bp as stripe_webhook
    from lms.sponsorships.views import bp as sponsorships_views
    from lms.web.views import bp as web_views

    for blueprint in (
        accounts_api, memberships_api, courses_api, progress_api, sponsorships_api,
        certificates_api,
    ):  # fmt: skip
        api.register_blueprint(blueprint)
    # Only the account routes declare rate limits; the others skip Flask-Limiter's per-request
    # check (measured: about 5% of a progress write).
    from lms.core.extensions import csrf, limiter

    for blueprint in (
        memberships_api, courses_api, progress_api, web_views, courses_views, memberships_views,
        progress_views, sponsorships_api, sponsorships_views, stripe_webhook, certificates_api,
        certificates_views,  # their lookups: lms.core.security.limit_per_address
    ):  # fmt: skip
        limiter.exempt(blueprint)
    # Stripe signs its webhooks; it cannot send a CSRF token.
    csrf.exempt(stripe_webhook)
    for blueprint in (
        web_views, accounts_views, courses_views, memberships_views, progress_views,
        sponsorships_views, stripe_webhook, certificates_views,
    ):  # fmt: skip
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    from lms.accounts.cli import register as register_account_commands
    from lms.certificates.cli import register as register_certificate_commands
    from lms.core.cli import lms_cli
    from lms.core.cli import register as register_core_commands
    from lms.courses.cli import register as register_course_commands
    from lms.demo import register as register_demo_commands
    from lms.sponsorships.cli import register as register_sponsorship_commands

    register_core_commands(lms_cli)
    register_account_commands(lms_cli)
    register_course_commands(lms_cli)
    register_certificate_commands(lms_cli)
    register_demo_commands(lms_cli)
    register_sponsorship_commands(lms_cli)
    app.cli.add_command(lms_cli)
