"""Domain errors and their mapping to the one error shape.

Services raise the errors defined here; they know nothing about HTTP. ``register_error_handlers``
turns them, and every HTTP error Flask or an extension raises, into either the JSON shape

    {"code": 409, "status": "Conflict", "message": "...", "errors": {...}, "request_id": "..."}

(flask-smorest's shape, plus the request id of lms.core.logs) for the API, or an HTML page
that shows the message and the request id elsewhere.
"""

import errno
import logging
from http import HTTPStatus

from flask import Flask, g, render_template, request
from flask_limiter.errors import RateLimitExceeded
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from lms.core.extensions import db
from lms.core.logs import current_request_id
from lms.core.transaction import mark_failed
from lms.core.urls import same_origin_referrer

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors services raise. ``errors`` holds per-field messages, if any.

    Creating one marks the request's transaction as failed: the request rolls back even if a
    view catches the error and answers 2xx or 3xx (see ``lms.core.transaction``).
    """

    code = 400

    def __init__(self, message: str, errors: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers
        mark_failed()


class BadRequest(DomainError):
    code = 400


class Unauthorized(DomainError):
    code = 401


class Forbidden(DomainError):
    code = 403


class NotFound(DomainError):
    code = 404


class Conflict(DomainError):
    code = 409


class Gone(DomainError):
    code = 410


class PayloadTooLarge(DomainError):
    code = 413


class TooManyRequests(DomainError):
    code = 429


class RuleViolation(DomainError):
    """The input is well formed but breaks a rule (422)."""

    code = 422


# Messages a person understands, for errors whose default text is written for developers.
FRIENDLY_MESSAGES = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You are not allowed to do this.",
    404: "Nothing was found at this address.",
    405: "This method is not allowed here.",
    409: "This conflicts with the current state.",
    413: "The upload is too large.",
    415: "Send a JSON body with Content-Type: application/json.",
    422: "Some of the input is not valid.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is not available right now. Try again shortly.",
}

# Seconds a client is told to wait (Retry-After) after a 503 for a database or storage outage.
RETRY_AFTER_SECONDS = 5

# A write to the disk (instance/: issuer keys, mail files, course imports) failed because the
# disk refuses it: read-only, no permission, full, over quota or over the file-size limit.
STORAGE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
)


# The heading of each error page, in the product's words (the message says the rest).
PAGE_TITLES = {
    400: "This request could not be understood",
    401: "Please log in",
    403: "This page is not open to you",
    404: "Page not found",
    405: "This page cannot do that",
    409: "This conflicts with what is already there",
    410: "This link has expired",
    413: "The upload is too large",
    422: "Some of the input is not valid",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "The service is unavailable for a moment",
}
CSRF_TITLE = "This form expired"
CSRF_PAGE_MESSAGE = (
    "This form expired (it was open too long or your session changed). Your input was not "
    "saved; please try again."
)


def wants_json() -> bool:
    """API paths answer JSON; everything else answers HTML pages."""
    path = request.path
    return path.startswith("/api/") or path == "/api" or path.startswith("/stripe/")


PLAIN_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{code} {status}</title>'
    "</head><body><h1>{status}</h1><p>{message}</p><p>Quote this reference: {request_id}</p>"
    "</body></html>"
)


def _rollback() -> None:
    """End the request's transaction. When the database just went away the rollback may fail
    too; the error being answered already says so, and the pool drops the dead connection."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        # A lost connection, or an error raised from within a commit (the session cannot
        # roll back a transaction that committed): drop the session's state.
        log.warning("rollback failed after an error; the session is closed instead")
        try:
            db.session.close()
        except SQLAlchemyError:
            db.session.remove()


def error_response(
    code: int, message: str | None = None, errors=None, headers=None, *, title: str | None = None
):
    """Render one error in the shape the client expects: JSON for the API, else a page in the
    product's words with a way back (the page the person came from, when it is ours)."""
    _rollback()
    status = HTTPStatus(code)
    message = message or FRIENDLY_MESSAGES.get(code, status.phrase)
    if wants_json():
        body = {"code": code, "status": status.phrase, "message": message}
        if errors:
            body["errors"] = errors
        body["request_id"] = current_request_id()
        return body, code, headers or {}
    g.error_message = message
    try:
        html = render_template(
            "error.html",
            code=code,
            status=status.phrase,
            title=title or PAGE_TITLES.get(code, status.phrase),
            message=message,
            back=same_origin_referrer(),
            request_id=current_request_id(),
        )
    except DBAPIError:
        # The layout asks the database who is logged in; with the database down that fails
        # again, and the page would become a bare 500. Answer a plain page instead.
        _rollback()
        html = PLAIN_PAGE.format(
            code=code,
            status=status.phrase,
            message=escape(message),
            request_id=escape(current_request_id() or "-"),
        )
    return html, code, headers or {}


def _http_message(exc: HTTPException) -> str | None:
    """Prefer our plain message, unless the raiser gave a specific one."""
    default = type(exc).description
    if exc.description and exc.description != default:
        return exc.description
    return None


def handle_http_exception(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages")
    message = data.get("message") or _http_message(exc)
    code = exc.code or 500
    if code == 422 and errors:
        # webargs nests field errors under the location ("json", "query", "files", ...);
        # clients care about the fields, so flatten a single location.
        if len(errors) == 1:
            errors = next(iter(errors.values()))
        message = message or "Some of the input is not valid. See the errors for each field."
    if code == 429:
        # A limit that names its own message (failed logins for one account) keeps it.
        limit = exc.limit if isinstance(exc, RateLimitExceeded) else None
        message = exc.description if limit and limit.error_message else FRIENDLY_MESSAGES[429]
    if code == 400 and exc.__class__.__name__ == "CSRFError":
        if not wants_json():  # a person's form, not a program's request
            return error_response(400, CSRF_PAGE_MESSAGE, title=CSRF_TITLE)
        message = f"CSRF check failed: {exc.description} Send the X-CSRFToken header."
    headers = dict(data.get("headers") or {})
    # Werkzeug's 429 and 503 carry Retry-After in their own headers (``retry_after=``).
    headers.update((k, v) for k, v in exc.get_headers() if k.lower() == "retry-after")
    return error_response(code, message, errors, headers)


def handle_domain_error(exc: DomainError):
    return error_response(exc.code, exc.message, exc.errors, exc.headers)


def handle_integrity_error(exc: IntegrityError):
    # A unique constraint lost a race with another request: that is a conflict, not a crash.
    log.info("integrity error mapped to 409: %s", violated_constraint(exc))
    return error_response(409, "This conflicts with data that already exists.")


def violated_constraint(exc: IntegrityError) -> str:
    """Which constraint failed, without the values: PostgreSQL's message carries the row's
    values (emails, names) in its DETAIL line, so only the constraint and table are kept."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:  # psycopg
        return f"constraint {diag.constraint_name} on table {diag.table_name}"
    # SQLite names the constraint or the columns ("UNIQUE constraint failed: users.email"),
    # never the values.
    return str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__


def is_database_outage(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (restart, failover,
    network), as opposed to a bad statement: OperationalError covers refused and lost
    connections and a server shutting down; a DBAPIError that invalidated its connection is a
    disconnect too, whatever class the driver gave it ("connection already closed")."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def database_unavailable(exc: Exception):
    # The type and the driver's first line, not the statement (it may carry values).
    first_line = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0]
    log.error("database unavailable (503): %s: %s", type(exc).__name__, first_line[:200])
    return error_response(
        503,
        "The database is not available. Try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_operational_error(exc: OperationalError):
    return database_unavailable(exc)


def is_storage_failure(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def storage_unavailable(exc: OSError):
    log.error(
        "storage unavailable (503): %s (errno %s %s) on %s",
        type(exc).__name__,
        exc.errno,
        errno.errorcode.get(exc.errno, "?"),
        exc.filename,
    )
    return error_response(
        503,
        "Storage is not available right now (the disk is full or read-only). "
        "Nothing was saved; try again later.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    if is_database_outage(exc):
        return database_unavailable(exc)
    if is_storage_failure(exc):
        return storage_unavailable(exc)
    log.exception("unhandled error", exc_info=exc)
    return error_response(500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    app.register_error_handler(Exception, handle_unexpected_error)
