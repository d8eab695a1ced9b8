"""One-time links by mail (password reset, email verification): stored hashed, used once,
expiring; the raw token travels only in the mail."""

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import OneTimeLinkMixin, User
from lms.core.db import utcnow
from lms.core.errors import BadRequest
from lms.core.extensions import db
from lms.core.tokens import hash_secret, new_secret


def new_link(model: type[OneTimeLinkMixin], user: User, ttl) -> str:
    """Store a new link's hash; returns the raw token, which only the mail carries."""
    raw = new_secret()
    db.session.add(model(user_id=user.id, token_hash=hash_secret(raw), expires_at=utcnow() + ttl))
    db.session.flush()
    return raw


def find_link(model: type[OneTimeLinkMixin], raw: str, message: str):
    token = db.session.scalar(sa.select(model).where(model.token_hash == hash_secret(raw)))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise BadRequest(message, errors={"token": ["invalid, used or expired"]})
    return token


def use_link(model: type[OneTimeLinkMixin], token, message: str) -> None:
    # Conditional update: if two requests race with one link, only one finds it unused.
    used = db.session.execute(
        sa.update(model)
        .where(model.id == token.id, model.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise BadRequest(message, errors={"token": ["invalid, used or expired"]})


def expire_links(model: type[OneTimeLinkMixin], user: User) -> None:
    db.session.execute(
        sa.update(model)
        .where(model.user_id == user.id, model.used_at.is_(None))
        .values(used_at=utcnow())
    )


def link_url(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def hours(ttl) -> int:
    return int(ttl.total_seconds() // 3600) or 1
