"""Email verification: a self-registered account is unverified until its owner follows a
mailed link; until then it can log in and browse, but can neither create API tokens nor join
an organization."""

from flask import current_app

from lms.accounts.links import expire_links, find_link, hours, link_url, new_link, use_link
from lms.accounts.models import EmailVerificationToken, User
from lms.core.db import utcnow
from lms.core.errors import Conflict, Forbidden
from lms.core.mail import send_mail

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
    expire_links(EmailVerificationToken, user)


def send_verification_email(user: User) -> None:
    """Mail a new verification link. 409 if the address is already confirmed."""
    if user.email_verified:
        raise Conflict("Your email address is already confirmed.")
    ttl = current_app.config["EMAIL_VERIFICATION_TTL"]
    raw = new_link(EmailVerificationToken, user, ttl)
    send_mail(
        user.email,
        "Confirm your lms email address",
        "accounts/mail/verify_email",
        user=user,
        link=link_url(f"/account/verify-email/{raw}"),
        hours=hours(ttl),
    )


def check_verification_token(raw: str) -> EmailVerificationToken:
    return find_link(EmailVerificationToken, raw, INVALID_VERIFICATION_LINK)


def verify_email(raw_token: str) -> User:
    """Use a verification link once: the account's address is proven."""
    token = check_verification_token(raw_token)
    use_link(EmailVerificationToken, token, INVALID_VERIFICATION_LINK)
    user = token.user
    mark_email_verified(user)
    return user
