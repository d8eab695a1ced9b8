"""Login throttling through Flask-Limiter, so that ``RATELIMIT_ENABLED`` switches it off.

Two limits guard the login routes (the API's and the page's):

* per client address, on every attempt (``LOGIN_ATTEMPTS_PER_ADDRESS``, see
  ``lms.core.security.login_attempts_limit``);
* per account, on failed attempts only (``LOGIN_FAILURES_PER_ACCOUNT``): keyed on the
  normalised email the attempt names, shared by both routes, and counted when the answer is
  401, whether or not the account exists.
"""

from flask import current_app, request

from lms.accounts.users import normalize_email
from lms.core.extensions import limiter

TOO_MANY_FAILURES = "Too many failed logins for this account. Wait a minute and try again."
NO_EMAIL = "(no email)"  # such an attempt is refused by validation (422), never counted


def failures_per_account() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def login_email() -> str:
    """The account a login attempt names: the email of the JSON body or of the form."""
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the parser goes: not a login at all
            body = None
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    if not isinstance(email, str) or not email.strip():
        return NO_EMAIL
    return normalize_email(email)


def login_failed(response) -> bool:
    return response.status_code == 401


failed_logins_limit = limiter.shared_limit(
    failures_per_account,
    scope="login-failures",
    key_func=login_email,
    deduct_when=login_failed,
    error_message=TOO_MANY_FAILURES,
    methods=["POST"],
)
