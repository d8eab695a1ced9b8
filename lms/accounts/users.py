"""Finding people by their email address, and their profile."""

import sqlalchemy as sa
from blinker import Namespace

from lms.accounts.models import User
from lms.core.extensions import db


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


# Sent when a person's display name changed (sender: the user), in the same transaction.
# Later packages keep their copies of the name in step (progress: the report's sort key).
profile_renamed = Namespace().signal("profile-renamed")


def update_profile(user: User, name: str) -> User:
    name = name.strip()
    if name != user.name:
        user.name = name
        profile_renamed.send(user)
    return user
