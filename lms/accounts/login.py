"""Logging in: checking credentials, and loading the user behind a session."""

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts.models import User
from lms.accounts.users import get_user_by_email, normalize_email
from lms.core.db import utcnow
from lms.core.errors import Unauthorized
from lms.core.extensions import db
from lms.core.tokens import new_secret

INVALID_LOGIN = "The email or password is not correct."


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or 401 with a message that reveals nothing.

    The login routes count the 401s per account and answer 429 after
    LOGIN_FAILURES_PER_ACCOUNT of them (``lms.accounts.throttling``).
    """
    email = normalize_email(email)
    user = get_user_by_email(email)
    # Hash even when there is no such user, so timing does not reveal which emails exist.
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    password_ok = check_password_hash(stored, password)
    if user is None or not password_ok or not user.is_active:
        raise Unauthorized(INVALID_LOGIN)
    user.last_login_at = utcnow()
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(new_secret(), method=method)
    return _DUMMY_HASHES[method]


def load_session_user(session_id: str) -> User | None:
    """flask-login's user loader: ``"<id>:<epoch>"``; an old epoch means logged out."""
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch) or not user.is_active:
        return None
    return user
