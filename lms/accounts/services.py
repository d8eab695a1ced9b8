"""Account rules: registration, authentication, API tokens and passwords. No HTTP here."""

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from limits import parse as parse_limit
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts.models import ApiToken, PasswordResetToken, User
from lms.accounts.passwords import password_problems
from lms.core.db import utcnow
from lms.core.errors import (
    BadRequest,
    Conflict,
    NotFound,
    RuleViolation,
    TooManyRequests,
    Unauthorized,
)
from lms.core.extensions import db, limiter
from lms.core.mail import send_mail
from lms.core.tokens import hash_secret, new_secret

API_TOKEN_PREFIX = "lms_"  # noqa: S105 (a label, not a secret)
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_LOGIN = "The email or password is not correct."


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_rules(password: str, email: str | None, field: str = "password") -> None:
    problems = password_problems(password, email)
    if problems:
        raise RuleViolation("The password is not strong enough.", errors={field: problems})


def register_user(email: str, password: str, name: str, *, is_platform_admin=False) -> User:
    """Create an account. 409 if the email (in any letter case) is taken."""
    email = normalize_email(email)
    check_password_rules(password, email)
    if get_user_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", errors={"email": ["taken"]})
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_platform_admin=is_platform_admin,
    )
    db.session.add(user)
    db.session.flush()
    return user


# -- login throttling -------------------------------------------------------------------


def _failure_limit():
    return parse_limit(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])


def _ensure_login_allowed(email: str) -> None:
    limit = _failure_limit()
    if not limiter.limiter.test(limit, "login-failures", email):
        reset_at, _remaining = limiter.limiter.get_window_stats(limit, "login-failures", email)
        retry_after = max(1, int(reset_at - utcnow().timestamp()))
        raise TooManyRequests(
            "Too many failed logins for this account. Wait a minute and try again.",
            headers={"Retry-After": str(retry_after)},
        )


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or 401 with a message that reveals nothing.

    After LOGIN_FAILURES_PER_ACCOUNT failures for one email, further attempts get 429
    until the window passes, whether or not the account exists.
    """
    email = normalize_email(email)
    _ensure_login_allowed(email)
    user = get_user_by_email(email)
    # Hash even when there is no such user, so timing does not reveal which emails exist.
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    password_ok = check_password_hash(stored, password)
    if user is None or not password_ok or not user.is_active:
        limiter.limiter.hit(_failure_limit(), "login-failures", email)
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


# -- personal API tokens ----------------------------------------------------------------


def create_api_token(user: User, name: str, expires_at: datetime | None) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the raw token, which is never stored."""
    if expires_at is not None and expires_at <= utcnow():
        raise RuleViolation(
            "The expiry date must be in the future.", errors={"expires_at": ["in the past"]}
        )
    raw = new_secret(API_TOKEN_PREFIX)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=hash_secret(raw),
        token_prefix=raw[:10],
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def list_api_tokens(user: User) -> sa.Select:
    return (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())
    )


def revoke_api_token(user: User, token_id: int) -> None:
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if token is None or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()


@functools.cache
def _token_query() -> sa.Select:
    # Built once: this runs on every token-authenticated request. Only the user is an ORM
    # object; the token's few columns come as plain values.
    return (
        sa.select(
            User, ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == sa.bindparam("b_hash"))
    )


def user_for_api_token(raw: str) -> User | None:
    """The owner of a usable token, recording when it was last used."""
    row = db.session.execute(_token_query(), {"b_hash": hash_secret(raw)}).first()
    if row is None:
        return None
    user, token_id, expires_at, revoked_at, last_used_at = row
    now = utcnow()
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    if not user.is_active:
        return None
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )
    return user


# -- passwords --------------------------------------------------------------------------


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current_password):
        raise RuleViolation(
            "The current password is not correct.",
            errors={"current_password": ["not correct"]},
        )
    check_password_rules(new_password, user.email, field="new_password")
    _set_password(user, new_password)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    # Any outstanding reset link stops working once the password has changed.
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    raw = new_secret()
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_secret(raw),
            expires_at=utcnow() + current_app.config["PASSWORD_RESET_TTL"],
        )
    )
    db.session.flush()
    base_url = current_app.config["BASE_URL"].rstrip("/")
    send_mail(
        user.email,
        "Reset your lms password",
        "accounts/mail/password_reset",
        user=user,
        link=f"{base_url}/password/reset/{raw}",
        hours=int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 3600) or 1,
    )


INVALID_RESET_LINK = "This password reset link is invalid, already used or expired."


def check_reset_token(raw: str) -> PasswordResetToken:
    token = db.session.scalar(
        sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_secret(raw))
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise BadRequest(INVALID_RESET_LINK, errors={"token": ["invalid, used or expired"]})
    return token


def reset_password(raw_token: str, new_password: str) -> User:
    """Use a reset link once: set the password and log out every session."""
    token = check_reset_token(raw_token)
    user = token.user
    check_password_rules(new_password, user.email)
    # Conditional update: if two requests race with one link, only one finds it unused.
    used = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise BadRequest(INVALID_RESET_LINK, errors={"token": ["invalid, used or expired"]})
    _set_password(user, new_password)
    return user


# Sent when a person's display name changed (sender: the user), in the same transaction.
# Later packages keep their copies of the name in step (progress: the report's sort key).
profile_renamed = Namespace().signal("profile-renamed")


def update_profile(user: User, name: str) -> User:
    name = name.strip()
    if name != user.name:
        user.name = name
        profile_renamed.send(user)
    return user


def ensure_platform_admin(email: str, password: str, name: str) -> tuple[User, bool]:
    """Create a platform admin, or promote (and re-password) an existing account."""
    user = get_user_by_email(email)
    if user is None:
        return register_user(email, password, name, is_platform_admin=True), True
    check_password_rules(password, user.email)
    user.is_platform_admin = True
    _set_password(user, password)
    return user, False
