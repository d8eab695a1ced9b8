"""JSON API: /api/v1/auth/* and /api/v1/me/*."""

from flask import g
from flask_login import login_user, logout_user
from flask_wtf.csrf import generate_csrf

from lms.accounts import services
from lms.accounts.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    CsrfOut,
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    ProfileIn,
    RegisterIn,
    UserOut,
    VerifyEmailIn,
)
from lms.accounts.throttling import failed_logins_limit
from lms.core.api import Blueprint, SQLAlchemyPage
from lms.core.auth import authenticated_user, login_optional, login_required, public
from lms.core.extensions import limiter
from lms.core.security import login_attempts_limit

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts")


@blp.route("/auth/register", methods=["POST"])
@public
@blp.error_responses(409, 429)
@limiter.limit(login_attempts_limit)
@blp.arguments(RegisterIn)
@blp.response(201, UserOut)
def register(data):
    """Create an account and log in; a link to confirm the address goes by mail

    Until the address is confirmed (`POST /auth/verify-email`), the account can browse but
    can neither create API tokens nor join an organization.
    """
    user = services.self_register(data["email"], data["password"], data["name"])
    login_user(user)
    return user


@blp.route("/auth/login", methods=["POST"])
@public
@blp.error_responses(401, 429)
@limiter.limit(login_attempts_limit)
@failed_logins_limit
@blp.arguments(LoginIn)
@blp.response(200, LoginOut)
def login(data):
    """Log in with email and password (sets the session cookie)"""
    user = services.authenticate(data["email"], data["password"])
    login_user(user)
    return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout", methods=["POST"])
@login_optional
@blp.response(204)
def logout():
    """Log out (ends the session)"""
    logout_user()


@blp.route("/auth/csrf", methods=["GET"], operation_id="getCsrfToken")
@public
@blp.response(200, CsrfOut)
def csrf_token():
    """The CSRF token to send as X-CSRFToken on cookie-authenticated writes"""
    return {"csrf_token": generate_csrf()}


@blp.route("/auth/password-reset", methods=["POST"])
@public
@blp.error_responses(429)
@limiter.limit(login_attempts_limit)
@blp.arguments(PasswordResetRequestIn)
@blp.response(202)
def request_password_reset(data):
    """Mail a password reset link (the answer is the same whether the account exists or not)"""
    services.request_password_reset(data["email"])


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@public
@blp.error_responses(429)
@limiter.limit(login_attempts_limit)
@blp.arguments(PasswordResetIn)
@blp.response(204)
def confirm_password_reset(data):
    """Set a new password with a reset link's token (single use)

    Your other sessions were logged out and your API tokens revoked. The link came by mail, so
    using it also confirms the email address.
    """
    services.reset_password(data["token"], data["password"])


@blp.route("/auth/verify-email", methods=["POST"])
@public
@blp.error_responses(429)
@limiter.limit(login_attempts_limit)
@blp.arguments(VerifyEmailIn)
@blp.response(204)
def verify_email(data):
    """Confirm the account's email address with the mailed link's token (single use)"""
    services.verify_email(data["token"])


@blp.route("/me", methods=["GET"], operation_id="getMe")
@login_required
@blp.response(200, UserOut)
def me():
    """The current user"""
    return authenticated_user()


@blp.route("/me", methods=["PATCH"])
@login_required
@blp.arguments(ProfileIn)
@blp.response(200, UserOut)
def update_me(data):
    """Change my display name"""
    return services.update_profile(authenticated_user(), data["name"])


@blp.route("/me/password", methods=["POST"])
@login_required
@blp.arguments(PasswordChangeIn)
@blp.response(204)
def change_password(data):
    """Change my password: your other sessions were logged out and your API tokens revoked"""
    user = authenticated_user()
    services.change_password(user, data["current_password"], data["new_password"])
    if not g.get("bearer_token_given"):
        login_user(user)  # keep this session, with the new epoch (a token has no session)


@blp.route("/me/verification-email", methods=["POST"])
@limiter.limit(login_attempts_limit)
@login_required
@blp.error_responses(409, 429)
@blp.response(202)
def resend_verification_email():
    """Mail me a new link to confirm my email address (409 if it is confirmed already)"""
    services.send_verification_email(authenticated_user())


@blp.route("/me/tokens", methods=["GET"])
@login_required
@blp.response(200, ApiTokenOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_tokens():
    """My personal API tokens (without the secrets)"""
    return services.list_api_tokens(authenticated_user())


@blp.route("/me/tokens", methods=["POST"])
@login_required
@blp.links(201, revokeToken=("revokeToken", {"token_id": "$response.body#/id"}))
@blp.error_responses(403)
@blp.arguments(ApiTokenIn)
@blp.response(201, ApiTokenCreatedOut)
def create_token(data):
    """Create a personal API token; the token is in this response only

    403 until the account's email address is confirmed.
    """
    token, raw = services.create_api_token(authenticated_user(), data["name"], data["expires_at"])
    token.raw_token = raw  # not a column: it exists only in this response
    return token


@blp.route("/me/tokens/<id:token_id>", methods=["DELETE"])
@login_required
@blp.response(204)
def revoke_token(token_id):
    """Revoke one of my tokens"""
    services.revoke_api_token(authenticated_user(), token_id)
