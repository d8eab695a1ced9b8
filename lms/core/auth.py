"""Who is calling: session users and personal API tokens, and the permission decorators."""

from collections.abc import Callable
from functools import wraps

from flask import g
from flask_login import current_user

from lms.core.errors import Forbidden, Unauthorized

# Set by the accounts package: takes a raw bearer token, returns the user or None.
token_user_loader: Callable[[str], object | None] | None = None


def load_user_from_request(req):
    """flask-login's request loader: ``Authorization: Bearer <token>``."""
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    g.bearer_token_given = True
    if token_user_loader is None:
        return None
    return token_user_loader(token.strip())


def authenticated_user():
    """The current user, or a 401 that says why."""
    if not current_user.is_authenticated:
        if g.get("bearer_token_given"):
            raise Unauthorized("The API token is invalid, revoked or expired.")
        raise Unauthorized("Log in or send a personal API token to do this.")
    return current_user._get_current_object()


def login_required(view):
    """Require a session or a valid API token (401 otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticated_user()
        return view(*args, **kwargs)

    return wrapper


def platform_admin_required(view):
    """Require a platform administrator (401 if anonymous, 403 otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = authenticated_user()
        if not user.is_platform_admin:
            raise Forbidden("Only platform administrators can do this.")
        return view(*args, **kwargs)

    return wrapper
