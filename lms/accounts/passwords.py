"""Password strength rules, shared by the API schemas, the HTML forms and the services; and
how a password is stored."""

import string
from functools import cache
from importlib.resources import files

from flask import current_app
from werkzeug.security import generate_password_hash

from lms.core.errors import RuleViolation

MAX_LENGTH = 128


@cache
def _common_passwords() -> frozenset[str]:
    text = files("lms.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, email: str | None = None) -> list[str]:
    """Everything wrong with a proposed password, as messages a person understands."""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return [f"Use at least {min_length} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered = password.lower()
    stem = lowered.rstrip(string.digits + string.punctuation + " ")
    common = _common_passwords()
    if lowered in common or stem in common or len(set(lowered)) <= 2:
        return ["This password is too common. Choose one that is harder to guess."]
    local_part = (email or "").lower().partition("@")[0]
    if len(local_part) >= 4 and local_part in lowered:
        return ["The password must not be based on your email address."]
    return []


def check_password_rules(password: str, email: str | None, field: str = "password") -> None:
    problems = password_problems(password, email)
    if problems:
        raise RuleViolation("The password is not strong enough.", errors={field: problems})


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
