"""Following a URL that came from the request (``?next=``, the Referer) without becoming an
open redirect: only paths on this site are followed."""

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None. An absolute URL, a scheme-relative
    ``//host`` (or ``/\\host``, which browsers read the same way) is never followed."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\r\n\t\\"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def same_origin_referrer() -> str | None:
    """The page the person came from, as a path, when it is on this site."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    path = parts.path or "/"
    return safe_next(f"{path}?{parts.query}" if parts.query else path)
