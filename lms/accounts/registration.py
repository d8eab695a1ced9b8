"""New accounts: signing up, accounts made for an invitation or by an operator, and an
unverified account taken over by whoever proves its address."""

from lms.accounts.models import User
from lms.accounts.password_changes import replace_password
from lms.accounts.passwords import check_password_rules, hash_password
from lms.accounts.users import get_user_by_email, normalize_email
from lms.accounts.verification import mark_email_verified, send_verification_email
from lms.core.db import utcnow
from lms.core.errors import Conflict
from lms.core.extensions import db


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
