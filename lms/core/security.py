"""CSRF policy, security headers applied to every request, and per-address limits."""

import functools
import math
import time

from flask import Flask, current_app, request, session
from flask_limiter.util import get_remote_address
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from lms.core.auth import sends_bearer_token
from lms.core.extensions import csrf, limiter

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def login_attempts_limit() -> str:
    """Flask-Limiter's limit for the login-type routes (pages and API), per client address."""
    return current_app.config["LOGIN_ATTEMPTS_PER_ADDRESS"]


def limit_per_address(scope: str, config_key: str):
    """A fixed-window limit per client address (``config_key``, e.g. "60 per minute") shared by
    every view decorated with the same ``scope``, counted in Flask-Limiter's storage, so that
    ``RATELIMIT_ENABLED`` and ``RATELIMIT_STORAGE_URI`` apply as to every other limit.

    For the public lookups hit the most (certificate verification): Flask-Limiter's own
    decorator resolves exemptions and limits twice a request, which cost more than the lookup
    (measured: about a fifth of the request). Over the limit: 429 with ``Retry-After``.
    """

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            if limiter.enabled:
                item = _parsed(current_app.config[config_key])
                key = f"lms/{scope}/{get_remote_address()}"
                window = _windows(limiter.storage)
                if not window.hit(item, key):
                    reset = window.get_window_stats(item, key).reset_time
                    raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))
            return view(*args, **kwargs)

        return limited

    return decorate


def drop_idle_limit_check(app: Flask) -> None:
    """Remove Flask-Limiter's check before every request when it has nothing to check.

    That pass enforces default and application-wide limits. lms declares none: its limits
    decorate their views, and the decorators check them. Unless the configuration adds such
    limits (``RATELIMIT_DEFAULT``, ``RATELIMIT_APPLICATION``, ``RATELIMIT_META``), the pass only
    resolved exemptions on every request (measured: about a tenth of a verification).
    """
    if any(app.config.get(key) for key in _APP_WIDE_LIMITS):
        return
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:
        checks.remove(limiter._check_request_limit)


_APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


@functools.lru_cache(maxsize=32)
def _parsed(text: str):
    return parse(text)


@functools.lru_cache(maxsize=4)
def _windows(storage) -> FixedWindowRateLimiter:
    return FixedWindowRateLimiter(storage)


def csrf_guard() -> None:
    """Check the CSRF token on writes that a browser could be tricked into sending.

    * HTML forms: always (the token travels in a hidden field).
    * API writes authenticated by the session cookie: the ``X-CSRFToken`` header is required.
    * API writes with a bearer token: exempt. The token alone authenticates them (an invalid
      one is a 401, the session cookie is ignored), and a browser never sends that header
      by itself.
    * Anonymous API writes (register, login, reset): exempt; they only accept a JSON body,
      which a cross-site form cannot send without a CORS preflight that we never allow.

    ``WTF_CSRF_ENABLED = False`` turns the check off, and views or blueprints exempted with
    ``csrf.exempt`` (Flask-WTF) are skipped.
    """
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return
    if request.routing_exception is not None:
        return  # a 404 or 405 is the more useful answer
    if request.path.startswith("/api/"):
        if sends_bearer_token() or "_user_id" not in session:
            return
    csrf.protect(apply_exemptions=True)


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def set_security_headers(response):
    """The security headers every answer carries, unless the view set its own (a course asset
    sets a stricter CSP, a PDF its own caching). One pass over the headers already there."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    wanted = list(SECURITY_HEADERS)
    if current_app.config["ENV"] == "production":
        wanted.append(HSTS)
    # The path first: API answers are never cached, and the session is not opened for them.
    if request.path.startswith("/api/") or "_user_id" in session:
        wanted.append(("Cache-Control", "no-store"))
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response


def init_security(app: Flask) -> None:
    app.before_request(csrf_guard)
    app.after_request(set_security_headers)
