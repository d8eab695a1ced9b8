"""Uploaded files, read into memory up to a size limit: the one size check for every upload
(course archives, CSV enrollment files), on the API and on the pages."""

from flask import request
from werkzeug.datastructures import FileStorage

from lms.core.errors import PayloadTooLarge

# The multipart envelope (boundary, part headers, other fields) comes on top of the file, so a
# request may be this much larger than the file it carries.
MULTIPART_OVERHEAD = 64 * 1024


def read_upload(upload: FileStorage, limit: int, what: str) -> bytes:
    """The uploaded file's bytes; 413 if it is over ``limit`` bytes. ``what`` names the kind
    of file in the message, e.g. "CSV files"."""
    message = f"{what} are limited to {limit // 2**20} MB."
    # A request whose declared length is far over the limit is refused before it is read.
    if (request.content_length or 0) > limit + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(message)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(message)
    return data
