"""Logging: a request id on every record, one structured line per request, secrets redacted.

* **Request id.** Each request takes a valid incoming ``X-Request-ID`` (a proxy's or a
  client's) or makes one; the response returns it in the same header, JSON errors carry it as
  ``request_id`` and error pages show it. Every log record created while the request runs has
  it as ``record.request_id`` (``-`` outside requests).
* **Request log.** One JSON line per request on the ``lms.requests`` logger: method, path
  (secret path parts and query values masked), status, duration_ms, user_id, request_id.
* **Redaction.** ``RedactSecrets`` rewrites a record's message and traceback text, masking API
  tokens, the token of reset, verification and invitation links (any route argument named in
  ``SECRET_ROUTE_ARGUMENTS``), bearer credentials and ``password=``/``"token": ...`` pairs.
  It runs when the record is created (``logging.setLogRecordFactory``), so it covers every
  logger and every handler, including those added later (gunicorn's, a test's), and records
  of libraries (Werkzeug's request lines, SQLAlchemy's statements) too. The filter is a safety
  net: code still must not log secrets.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# What an incoming id may look like (UUIDs, hex, a proxy's "host-1234-abcd"): anything else,
# which could forge log lines or carry markup, is replaced by one of ours.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
# Route arguments whose value is a secret: /password/reset/<token>, /invitations/<token>, ...
SECRET_ROUTE_ARGUMENTS = frozenset({"token"})
# Query and form keys whose value is a secret.
SECRET_KEYS = "|".join(  # names of secrets, not one
    ("password", "new_password", "current_password", "token", "api_token", "access_token")
    + ("secret", "api_key")
)
MASK = "[redacted]"

request_log = logging.getLogger("lms.requests")

_secret_pairs = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b(?:{SECRET_KEYS})\b["']?\s*[:=]\s*)   # password= / "token": / 'secret':
    (?!\[redacted\])                                      # masked already
    (?P<value>"[^"]*"|'[^']*'|[^\s&,;}}\])"']+)
    """
)
_bearer = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_api_token = re.compile(r"\blms_[A-Za-z0-9_-]{8,}")
# Filled by ``init_logging`` from the app's routes: one pattern per secret route argument.
_secret_paths: list[re.Pattern] = []


def redact(text: str) -> str:
    """``text`` with every secret this module can recognise masked."""
    for pattern in _secret_paths:
        text = pattern.sub(lambda m: m.group("before") + MASK, text)
    text = _api_token.sub("lms_" + MASK, text)
    text = _bearer.sub(lambda m: m.group(1) + MASK, text)
    return _secret_pairs.sub(lambda m: m.group("key") + MASK, text)


def secret_path_patterns(rules: Iterable[str]) -> list[re.Pattern]:
    """Patterns matching the secret argument of every route that has one, anywhere in a text
    (a full link, a request line): ``/invitations/<token>`` gives ``/invitations/(secret)``."""
    patterns = set()
    for rule in rules:
        parts = re.split(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
        if not SECRET_ROUTE_ARGUMENTS.intersection(parts[1::2]):
            continue
        # Static parts literal, other arguments any segment, the secret one is masked.
        regex, last_secret = (
            "",
            max(i for i, name in enumerate(parts) if i % 2 and name in SECRET_ROUTE_ARGUMENTS),
        )
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex += re.escape(part)
            elif i == last_secret:
                patterns.add(f"(?P<before>{regex})" + r"[^/?#\s\"'<>]+")
                break
            else:
                regex += r"[^/?#\s\"'<>]+"
    return [re.compile(p) for p in sorted(patterns)]


class RedactSecrets(logging.Filter):
    """Masks secrets in a record's message and traceback; sets ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_redact_secrets = RedactSecrets()


def install_record_factory() -> None:
    """Run ``RedactSecrets`` on every record this process creates (once per process)."""
    base = logging.getLogRecordFactory()
    if getattr(base, "redacts_secrets", False):
        return

    def factory(*args, **kwargs):
        record = base(*args, **kwargs)
        _redact_secrets.filter(record)
        return record

    factory.redacts_secrets = True
    logging.setLogRecordFactory(factory)


# -- request ids ------------------------------------------------------------------------------


def current_request_id() -> str | None:
    """This request's id (made on first use); None outside a request."""
    if not has_request_context():
        return None
    request_id = g.get("request_id")
    if request_id is None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id = request_id
    return request_id


def _start_request() -> None:
    g.request_started = time.perf_counter()
    current_request_id()


def _finish_request(response):
    request_id = current_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    if not request_log.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    user = g.get("_login_user")  # only if the request loaded it: logging adds no query
    line = {
        "method": request.method,
        "path": loggable_path(),
        "status": response.status_code,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "user_id": _user_id(user),
        "request_id": request_id,
    }
    request_log.info(json.dumps(line), extra={"request": line})
    return response


def _user_id(user) -> int | None:
    """The id of the request's user, without a query: the commit expired the object, and
    reading ``user.id`` would load it again."""
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return identity[0] if identity else None


def loggable_path() -> str:
    """The request's path and query, with secret route arguments and query values masked."""
    path = request.path
    view_args = request.view_args or {}
    if SECRET_ROUTE_ARGUMENTS.intersection(view_args) and request.url_rule is not None:
        masked = {
            name: MASK if name in SECRET_ROUTE_ARGUMENTS else value
            for name, value in view_args.items()
        }
        try:
            path = request.url_rule.build(masked, append_unknown=False)[1]
        except Exception:  # a converter refusing the mask: drop the path's arguments
            path = request.url_rule.rule
    if request.query_string:
        pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
        secret = re.compile(rf"(?i)^(?:{SECRET_KEYS})$")
        query = urlencode([(k, MASK if secret.match(k) else v) for k, v in pairs], safe="[]")
        path = f"{path}?{query}"
    return redact(path)


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"


def configure_root_logger(level: str) -> None:
    """Like ``logging.basicConfig``: a stderr handler on the root logger, only if nobody
    (gunicorn's --log-config, a test runner, instance/config.py) configured one already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(_redact_secrets)  # records made before the factory was installed
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)


def init_logging(app: Flask) -> None:
    """Request ids and the request log for ``app``; redaction for the whole process."""
    install_record_factory()
    if app.config["LOG_LEVEL"]:
        configure_root_logger(app.config["LOG_LEVEL"])
    _secret_paths[:] = secret_path_patterns(rule.rule for rule in app.url_map.iter_rules())
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
