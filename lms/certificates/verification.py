"""Verification: what anyone learns from a certificate's code (valid, revoked, replaced), with
no email and no other personal data. No HTTP."""

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lms.certificates import codes
from lms.certificates.models import (
    Certificate,
)
from lms.certificates.services import (
    NOT_FOUND,
    status_of,
)
from lms.core.errors import NotFound
from lms.core.extensions import db

# -- verification -----------------------------------------------------------------------


@dataclass
class Verification:
    """What anyone may learn about a code: no email, no internal ids."""

    status: str
    code: str
    learner_name: str
    course: str
    course_title: str
    version: str
    organization: str
    completed_at: datetime
    issued_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None


@functools.cache
def _verification_query() -> sa.Select:
    """The hot public route: plain columns by the unique code, the successor's code joined,
    built once (Core rows cost a fraction of loading an entity)."""
    table = Certificate.__table__
    successor = table.alias("successor")
    return (
        sa.select(
            table.c.code,
            table.c.learner_name,
            table.c.course_slug,
            table.c.course_title,
            table.c.version_label,
            table.c.organization_name,
            table.c.completed_at,
            table.c.issued_at,
            table.c.revoked_at,
            table.c.revocation_reason,
            table.c.replaced_at,
            successor.c.code.label("successor_code"),
        )
        .outerjoin(successor, successor.c.id == table.c.replaced_by_id)
        .where(table.c.code == sa.bindparam("b_code"))
    )


def verify(text: str) -> Verification:
    """The public status of a code (one indexed query); NotFound for unknown or malformed."""
    code = codes.normalize(text)
    row = db.session.execute(_verification_query(), {"b_code": code}).first() if code else None
    if row is None:
        raise NotFound(NOT_FOUND)
    return Verification(
        status=status_of(row),
        code=codes.display(row.code),
        learner_name=row.learner_name,
        course=row.course_slug,
        course_title=row.course_title,
        version=row.version_label,
        organization=row.organization_name,
        completed_at=row.completed_at,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
        revocation_reason=row.revocation_reason,
        replaced_at=row.replaced_at,
        replaced_by=codes.display(row.successor_code) if row.successor_code else None,
    )
