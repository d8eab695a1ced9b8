"""Personal API tokens: made by a verified account, shown once, stored hashed, revoked one
by one or all at once (when the password changes)."""

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.accounts.models import ApiToken, User
from lms.accounts.verification import require_verified_email
from lms.core.db import utcnow
from lms.core.errors import NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.tokens import hash_secret, new_secret

API_TOKEN_PREFIX = "lms_"  # noqa: S105 (a label, not a secret)
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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


def api_tokens(user: User, limit: int = 100) -> list[ApiToken]:
    """The user's usable tokens, newest first (the account page)."""
    return db.session.scalars(list_api_tokens(user).limit(limit)).all()


def revoke_api_token(user: User, token_id: int) -> None:
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if token is None or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()


def revoke_all_api_tokens(user: User) -> None:
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


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
