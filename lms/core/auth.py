"""Who is calling: session users and personal API tokens, and the permission decorators."""

from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_login import current_user

from lms.core.errors import Forbidden, Unauthorized

# Set by the accounts package: take flask-login's session id or a raw bearer token, return
# the user or None.
session_user_loader: Callable[[str], object | None] | None = None
token_user_loader: Callable[[str], object | None] | None = None


def sends_bearer_token(req=None) -> bool:
    """The request names a personal API token (``Authorization: Bearer ...``).

    Such a request is authenticated by the token alone: the session cookie a browser sends
    along is ignored, so an invalid token is a 401, never a fall-back to the session (which
    would also skip the session's CSRF check)."""
    scheme, _, _token = (req or request).headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer"


def load_user_from_session(session_id: str):
    """flask-login's user loader: the session's user, unless a bearer token was sent."""
    if sends_bearer_token() or session_user_loader is None:
        return None
    return session_user_loader(session_id)


def load_user_from_request(req):
    """flask-login's request loader: ``Authorization: Bearer <token>``."""
    if not sends_bearer_token(req):
        return None
    g.bearer_token_given = True
    token = req.headers["Authorization"].partition(" ")[2].strip()
    if not token or token_user_loader is None:
        return None
    return token_user_loader(token)


def authenticated_user():
    """The current user, or a 401 that says why."""
    if not current_user.is_authenticated:
        if g.get("bearer_token_given"):
            raise Unauthorized("The API token is invalid, revoked or expired.")
        raise Unauthorized("Log in or send a personal API token to do this.")
    return current_user._get_current_object()


# Every API view says who may call it, through one of the four decorators below; the OpenAPI
# document's ``security`` and 401/403 responses are read from this mark (``lms.core.api``).
# The mark is a plain attribute, so it survives the ``functools.wraps`` of outer decorators.
AUTH_MARK = "auth_required"


def public(view):
    """Anyone may call this view; a session or token changes nothing (login, register)."""
    setattr(view, AUTH_MARK, "public")
    return view


def login_optional(view):
    """Anyone may call this view; a session or token may change the answer (the catalog)."""
    setattr(view, AUTH_MARK, "optional")
    return view


def login_required(view):
    """Require a session or a valid API token (401 otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        authenticated_user()
        return view(*args, **kwargs)

    setattr(wrapper, AUTH_MARK, "login")
    return wrapper


def platform_admin_required(view):
    """Require a platform administrator (401 if anonymous, 403 otherwise)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = authenticated_user()
        if not user.is_platform_admin:
            raise Forbidden("Only platform administrators can do this.")
        return view(*args, **kwargs)

    setattr(wrapper, AUTH_MARK, "platform_admin")
    return wrapper
