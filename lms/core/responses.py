"""Responses that are not JSON and not a rendered page."""

from collections.abc import Iterable

from flask import Response, stream_with_context


def csv_download(lines: Iterable[str], filename: str) -> Response:
    """A CSV download streamed as ``lines`` are produced (the request context stays open
    while they are, so they may read the database), saved by browsers as ``filename``."""
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
