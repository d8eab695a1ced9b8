"""Changing a password (knowing the current one), replacing it, and resetting it by a mailed
link. Each ends every session and revokes every personal API token, so whoever held the
account before loses it entirely."""

from flask import current_app
from werkzeug.security import check_password_hash

from lms.accounts.api_tokens import revoke_all_api_tokens
from lms.accounts.links import expire_links, find_link, hours, link_url, new_link, use_link
from lms.accounts.models import PasswordResetToken, User
from lms.accounts.passwords import check_password_rules, hash_password
from lms.accounts.users import get_user_by_email
from lms.accounts.verification import mark_email_verified
from lms.core.errors import RuleViolation
from lms.core.mail import send_mail


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
    expire_links(PasswordResetToken, user)


def request_password_reset(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = get_user_by_email(email)
    if user is None or not user.is_active:
        return
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    raw = new_link(PasswordResetToken, user, ttl)
    send_mail(
        user.email,
        "Reset your lms password",
        "accounts/mail/password_reset",
        user=user,
        link=link_url(f"/password/reset/{raw}"),
        hours=hours(ttl),
    )


INVALID_RESET_LINK = "This password reset link is invalid, already used or expired."


def check_reset_token(raw: str) -> PasswordResetToken:
    return find_link(PasswordResetToken, raw, INVALID_RESET_LINK)


def reset_password(raw_token: str, new_password: str) -> User:
    """Use a reset link once: set the password, end every session, revoke every API token.

    The link came by mail, so using it also proves the address.
    """
    token = check_reset_token(raw_token)
    user = token.user
    check_password_rules(new_password, user.email)
    use_link(PasswordResetToken, token, INVALID_RESET_LINK)
    _set_password(user, new_password)
    mark_email_verified(user)
    return user
