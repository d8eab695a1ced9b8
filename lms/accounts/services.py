"""Account rules, the service interface that views, APIs, commands and later packages call.
No HTTP here. Each rule lives in the module named for its job:

* ``users``: people by email address, their profile;
* ``registration``: new accounts, operators' admins, taking over an unverified account;
* ``verification``: proving an email address by a mailed link;
* ``login``: credentials and sessions;
* ``api_tokens``: personal API tokens;
* ``password_changes``: changing, replacing and resetting a password;
* ``passwords``: how strong a password must be, and how it is stored;
* ``links``: the one-time links that verification and password reset mail.

An account is only as strong as its email address. A self-registered account stays unverified
until its owner follows a mailed link; until then it can log in and browse, but can neither
create API tokens nor join an organization. A password reset or change ends every session and
revokes every personal token, so whoever held the account before loses it entirely.
"""

from lms.accounts.api_tokens import (
    API_TOKEN_PREFIX,
    LAST_USED_RESOLUTION,
    api_tokens,
    create_api_token,
    list_api_tokens,
    revoke_all_api_tokens,
    revoke_api_token,
    user_for_api_token,
)
from lms.accounts.login import INVALID_LOGIN, authenticate, load_session_user
from lms.accounts.password_changes import (
    INVALID_RESET_LINK,
    change_password,
    check_reset_token,
    replace_password,
    request_password_reset,
    reset_password,
)
from lms.accounts.passwords import check_password_rules, hash_password
from lms.accounts.registration import (
    claim_account,
    ensure_platform_admin,
    register_user,
    self_register,
)
from lms.accounts.users import get_user_by_email, normalize_email, profile_renamed, update_profile
from lms.accounts.verification import (
    INVALID_VERIFICATION_LINK,
    UNVERIFIED,
    check_verification_token,
    mark_email_verified,
    require_verified_email,
    send_verification_email,
    verify_email,
)

__all__ = [
    "API_TOKEN_PREFIX",
    "INVALID_LOGIN",
    "INVALID_RESET_LINK",
    "INVALID_VERIFICATION_LINK",
    "LAST_USED_RESOLUTION",
    "UNVERIFIED",
    "api_tokens",
    "authenticate",
    "change_password",
    "check_password_rules",
    "check_reset_token",
    "check_verification_token",
    "claim_account",
    "create_api_token",
    "ensure_platform_admin",
    "get_user_by_email",
    "hash_password",
    "list_api_tokens",
    "load_session_user",
    "mark_email_verified",
    "normalize_email",
    "profile_renamed",
    "register_user",
    "replace_password",
    "request_password_reset",
    "require_verified_email",
    "reset_password",
    "revoke_all_api_tokens",
    "revoke_api_token",
    "self_register",
    "send_verification_email",
    "update_profile",
    "user_for_api_token",
    "verify_email",
]
