"""Account rules: registration, email verification, authentication, API tokens and passwords.
No HTTP here.

An account is only as strong as its email address. A self-registered account stays unverified
until its owner follows a mailed link; until then it can log in and browse, but can neither
create API tokens nor join an organization. A password reset or change ends every session and
revokes every personal token, so whoever held the account before loses it entirely.
"""

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from lms.accounts.models import (
    ApiToken,
    EmailVerificationToken,
    OneTimeLinkMixin,
    PasswordResetToken,
    User,
)
from lms.accounts.passwords import password_problems
from lms.core.db import utcnow
from lms.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RuleViolation,
    Unauthorized,
)
from lms.core.extensions import db
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


def register_user(
    email: str, password: str, name: str, *, is_platform_admin=False, verified=False
) -> User:
    """Create an account. 409 if the email (in any letter case) is taken.

    ``verified``: the caller has proof of the address (an invitation link, an operator).
    """
    email = normalize_email(email)
    check_password_rules(password, email)
    if get_user_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", errors={"email": ["taken"]})
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password),
        is_platform_admin=is_platform_admin,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def self_register(email: str, password: str, name: str) -> User:
    """Someone signs up on their own: an unverified account, and a verification link by mail."""
    user = register_user(email, password, name)
    send_verification_email(user)
    return user


# -- one-time links (password reset, email verification) --------------------------------


def _new_link(model: type[OneTimeLinkMixin], user: User, ttl) -> str:
    """Store a new link's hash; returns the raw token, which only the mail carries."""
    raw = new_secret()
    db.session.add(model(user_id=user.id, token_hash=hash_secret(raw), expires_at=utcnow() + ttl))
    db.session.flush()
    return raw


def _find_link(model: type[OneTimeLinkMixin], raw: str, message: str):
    token = db.session.scalar(sa.select(model).where(model.token_hash == hash_secret(raw)))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise BadRequest(message, errors={"token": ["invalid, used or expired"]})
    return token


def _use_link(model: type[OneTimeLinkMixin], token, message: str) -> None:
    # Conditional update: if two requests race with one link, only one finds it unused.
    used = db.session.execute(
        sa.update(model)
        .where(model.id == token.id, model.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise BadRequest(message, errors={"token": ["invalid, used or expired"]})


def _expire_links(model: type[OneTimeLinkMixin], user: User) -> None:
    db.session.execute(
        sa.update(model)
        .where(model.user_id == user.id, model.used_at.is_(None))
        .values(used_at=utcnow())
    )


def _link_url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _hours(ttl) -> int:
    return int(ttl.total_seconds() // 3600) or 1


# -- email verification -----------------------------------------------------------------

INVALID_VERIFICATION_LINK = "This confirmation link is invalid, already used or expired."
UNVERIFIED = (
    "Confirm your email address first: follow the link we mailed to {email}"
    " (your account page can send a new one). Until then you cannot {action}."
)


def require_verified_email(user: User, action: str) -> None:
    """403 unless the account's address is proven; ``action`` says what was refused."""
    if not user.email_verified:
        raise Forbidden(UNVERIFIED.format(email=user.email, action=action))


def mark_email_verified(user: User) -> None:
    """The address is proven: record it, and retire the verification links still out."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    _expire_links(EmailVerificationToken, user)


def send_verification_email(user: User) -> None:
    """Mail a new verification link. 409 if the address is already confirmed."""
    if user.email_verified:
        raise Conflict("Your email address is already confirmed.")
    ttl = current_app.config["EMAIL_VERIFICATION_TTL"]
    raw = _new_link(EmailVerificationToken, user, ttl)
    send_mail(
        user.email,
        "Confirm your lms email address",
        "accounts/mail/verify_email",
        user=user,
        link=_link_url(f"/account/verify-email/{raw}"),
        hours=_hours(ttl),
    )


def check_verification_token(raw: str) -> EmailVerificationToken:
    return _find_link(EmailVerificationToken, raw, INVALID_VERIFICATION_LINK)


def verify_email(raw_token: str) -> User:
    """Use a verification link once: the account's address is proven."""
    token = check_verification_token(raw_token)
    _use_link(EmailVerificationToken, token, INVALID_VERIFICATION_LINK)
    user = token.user
    mark_email_verified(user)
    return user


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


# -- personal API tokens ----------------------------------------------------------------


def create_api_token(user: User, name: str, expires_at: datetime | None) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the raw token, which is never stored.

    403 for an unverified account: a token outlives sessions, so whoever squats an address
    must not be able to keep a way in after the owner claims it.
    """
    require_verified_email(user, "create API tokens")
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


def revoke_all_api_tokens(user: User) -> None:
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password: every other session ends and every API token is revoked."""
    if not user.password_hash or not check_password_hash(user.password_hash, current_password):
        raise RuleViolation(
            "The current password is not correct.",
            errors={"current_password": ["not correct"]},
        )
    check_password_rules(new_password, user.email, field="new_password")
    _set_password(user, new_password)


def replace_password(user: User, password: str) -> None:
    """The account changes hands or credentials: new password, every session and token ends.

    The caller (the current session, if any) must log in again with ``login_user``.
    """
    check_password_rules(password, user.email)
    _set_password(user, password)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    revoke_all_api_tokens(user)
    # Any outstanding reset link stops working once the password has changed.
    _expire_links(PasswordResetToken, user)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    raw = _new_link(PasswordResetToken, user, ttl)
    send_mail(
        user.email,
        "Reset your lms password",
        "accounts/mail/password_reset",
        user=user,
        link=_link_url(f"/password/reset/{raw}"),
        hours=_hours(ttl),
    )


INVALID_RESET_LINK = "This password reset link is invalid, already used or expired."


def check_reset_token(raw: str) -> PasswordResetToken:
    return _find_link(PasswordResetToken, raw, INVALID_RESET_LINK)


def reset_password(raw_token: str, new_password: str) -> User:
    """Use a reset link once: set the password, end every session, revoke every API token.

    The link came by mail, so using it also proves the address.
    """
    token = check_reset_token(raw_token)
    user = token.user
    check_password_rules(new_password, user.email)
    _use_link(PasswordResetToken, token, INVALID_RESET_LINK)
    _set_password(user, new_password)
    mark_email_verified(user)
    return user


def claim_account(user: User, name: str, password: str) -> User:
    """Whoever proved the address (an invitation's mailed link) takes an unverified account
    over: a new name and password, the address confirmed, and every session and API token of
    whoever held the account before ends. The caller logs the new owner in."""
    if user.email_verified:
        raise Conflict("This account's address is confirmed: log in to use it.")
    replace_password(user, password)
    user.name = name.strip()
    mark_email_verified(user)
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
        return register_user(email, password, name, is_platform_admin=True, verified=True), True
    replace_password(user, password)
    user.is_platform_admin = True
    # The operator vouches for the address.
    mark_email_verified(user)
    return user, False
