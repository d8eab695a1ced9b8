"""CSRF policy and security headers applied to every request."""

from flask import Flask, current_app, request, session

from lms.core.auth import sends_bearer_token
from lms.core.extensions import csrf

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


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # The path first: API answers are never cached, and the session is not opened for them.
    if request.path.startswith("/api/") or "_user_id" in session:
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    app.before_request(csrf_guard)
    app.after_request(set_security_headers)
