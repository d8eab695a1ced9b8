from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.core.extensions import db


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see services.normalize_email), so the unique constraint is
    # case-insensitive on every backend.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    deactivated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Bumped when the password changes: every session issued before then stops working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    # When the owner proved the address (a verification, reset or invitation link), or an
    # operator vouched for it. A self-registered account starts without it.
    email_verified_at: Mapped[datetime | None]

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 hash is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so a person can recognise which token is which.
    token_prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class OneTimeLinkMixin:
    """A single-use, expiring link mailed to the account's address; only its hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    @declared_attr
    def user(cls) -> Mapped[User]:
        return relationship(User)


class PasswordResetToken(OneTimeLinkMixin, db.Model):
    """A password reset link."""

    __tablename__ = "password_reset_tokens"


class EmailVerificationToken(OneTimeLinkMixin, db.Model):
    """An email verification link, mailed when someone registers."""

    __tablename__ = "email_verification_tokens"
