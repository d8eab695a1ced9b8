"""Random secrets that are shown once and stored only as a hash."""

import hashlib
import secrets


def new_secret(prefix: str = "", nbytes: int = 32) -> str:
    """A URL-safe random secret, optionally prefixed so people can tell what it is."""
    return prefix + secrets.token_urlsafe(nbytes)


def hash_secret(raw: str) -> str:
    """SHA-256 of a high-entropy secret. (Salting is unnecessary: the secret is random.)"""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_code(nbytes: int = 9) -> str:
    """A short, public, unguessable identifier (certificates, invitations)."""
    return secrets.token_urlsafe(nbytes)
