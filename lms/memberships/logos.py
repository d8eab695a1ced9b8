"""Organization logos: an OSPO admin (or a platform admin) uploads one; certificates of the
organization rendered afterwards show it.

An upload is never stored as sent. It must be a PNG or a JPEG of at most
``ORGANIZATION_LOGO_MAX_BYTES`` bytes and ``ORGANIZATION_LOGO_MAX_SIDE`` pixels a side (read
from the header, before anything is decoded, so an image bomb costs nothing); it is decoded
completely (a truncated file fails here, not in a certificate), turned the way its EXIF says,
shrunk to fit ``ORGANIZATION_LOGO_BOX`` and written as a new PNG from the pixels alone, so no
EXIF, text chunk, colour profile or trailing data survives. Anything else is a 422 and
nothing is stored.

The PDFs of certificates already issued stay as they were rendered: a certificate is a
document of its day, and a new logo shows on the certificates rendered after it.
"""

import hashlib
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import PayloadTooLarge, RuleViolation
from lms.core.extensions import db
from lms.core.uploads import read_upload
from lms.memberships.models import Organization, OrganizationLogo

FORMATS = ("PNG", "JPEG")  # the decoders Pillow may try; every other format is refused
NOT_PNG_OR_JPEG = "The logo must be a PNG or JPEG image."
DAMAGED = "The image is damaged or incomplete."

# What Pillow raises on a broken file, besides UnidentifiedImageError (an OSError): a
# truncated stream (OSError), a bad chunk (SyntaxError), an oversized text chunk
# (ValueError), a short header (EOFError, struct.error), a corrupt deflate stream.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)


@dataclass(frozen=True)
class Logo:
    png: bytes
    width: int
    height: int


def _refuse(message: str) -> RuleViolation:
    return RuleViolation(message, errors={"file": [message]})


def _size_text(limit: int) -> str:
    if limit >= 2**20 and limit % 2**20 == 0:
        return f"{limit // 2**20} MB"
    return f"{max(limit // 1024, 1)} KB"


def read_logo_file(upload: FileStorage) -> bytes:
    """The uploaded logo's bytes, through the one upload size check. Over the limit is a 422
    like every other refused logo (the request itself was fine; the file breaks a rule)."""
    limit = current_app.config["ORGANIZATION_LOGO_MAX_BYTES"]
    try:
        return read_upload(upload, limit, "Logos")
    except PayloadTooLarge:
        raise _refuse(f"The logo is too large: at most {_size_text(limit)}.") from None


_decoding = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Decode as Pillow does by default: a truncated file is an error, and so is its
    decompression-bomb warning. WeasyPrint switches ``ImageFile.LOAD_TRUNCATED_IMAGES`` on for
    the whole process when it is imported (it draws what it can of a broken image), and with
    it on a truncated upload would load silently, grey where its data ends. Both switches are
    process-wide, hence the lock; uploads are rare, so waiting for one another costs nothing,
    and a certificate render in another thread only ever loads our own checked images."""
    with _decoding, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        lenient = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def reencode_logo(data: bytes, *, max_side: int, box: int) -> Logo:
    """Check an uploaded image and re-encode it as a metadata-free PNG that fits ``box`` ×
    ``box`` pixels. A RuleViolation (422) says what is wrong with anything else."""
    if not data:
        raise _refuse("The file is empty.")
    with _strict_decoding():
        try:
            image = Image.open(BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(_too_many_pixels(max_side)) from None
        except UnidentifiedImageError:
            raise _refuse(NOT_PNG_OR_JPEG) from None
        except _DECODE_ERRORS:
            raise _refuse(DAMAGED) from None
        with image:
            width, height = image.size
            if width > max_side or height > max_side:
                raise _refuse(_too_many_pixels(max_side))
            if width < 1 or height < 1:
                raise _refuse(DAMAGED)
            try:
                if image.format == "JPEG":
                    image.draft("RGB", (box, box))  # decode a large JPEG at a fraction of its size
                image.load()
                clean = _pixels_only(image, box)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise _refuse(_too_many_pixels(max_side)) from None
            except _DECODE_ERRORS:
                raise _refuse(DAMAGED) from None
    out = BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return Logo(png=out.getvalue(), width=clean.width, height=clean.height)


def _too_many_pixels(max_side: int) -> str:
    return f"The image is too large: at most {max_side} × {max_side} pixels."


def _pixels_only(image: Image.Image, box: int) -> Image.Image:
    """The image turned upright, in RGB (RGBA if it has transparency), shrunk to fit the box,
    as a new image that carries nothing but its pixels."""
    image = ImageOps.exif_transpose(image)
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode.startswith("I"):  # 16- and 32-bit greyscale PNGs: scale to 8 bits first
        image = image.point(lambda value: value / 256).convert("L")
    image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((box, box), Image.Resampling.LANCZOS)
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


# -- storing, removing and reading ------------------------------------------------------


def get_logo(organization: Organization) -> OrganizationLogo | None:
    """The organization's logo row (its PNG is loaded on first access), or None."""
    return db.session.get(OrganizationLogo, organization.id)


def set_logo(organization: Organization, actor: User, data: bytes) -> OrganizationLogo:
    """Check and re-encode ``data`` and make it the organization's logo (replacing any)."""
    config = current_app.config
    logo = reencode_logo(
        data, max_side=config["ORGANIZATION_LOGO_MAX_SIDE"], box=config["ORGANIZATION_LOGO_BOX"]
    )
    row = get_logo(organization)
    if row is None:
        row = OrganizationLogo(organization=organization)
        db.session.add(row)
    row.png = logo.png
    row.width = logo.width
    row.height = logo.height
    row.sha256 = hashlib.sha256(logo.png).hexdigest()
    row.uploaded_by_id = actor.id
    row.uploaded_at = utcnow()
    db.session.flush()
    return row


def remove_logo(organization: Organization) -> bool:
    """Remove the organization's logo; False if it had none."""
    table = OrganizationLogo.__table__
    result = db.session.execute(sa.delete(table).where(table.c.organization_id == organization.id))
    return result.rowcount > 0


def logo_png(session: Session, organization_id: int) -> bytes | None:
    """The organization's logo PNG, read in ``session`` (the certificate renderer's hook: it
    runs in the outbox's or the bulk renderer's own session)."""
    table = OrganizationLogo.__table__
    return session.scalar(sa.select(table.c.png).where(table.c.organization_id == organization_id))
