"""Invitations one by one: inviting a person by email (the link goes by mail), listing and
withdrawing invitations. Accepting one is ``acceptance``; many from a file, ``csv_enrollment``.

A pending learner invitation takes no seat; accepting it does.
"""

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.errors import Conflict, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.mail import send_mail
from lms.core.tokens import hash_secret, new_code, new_secret
from lms.memberships.members import active_member_emails
from lms.memberships.models import Invitation, InvitationStatus, MemberRole, Organization
from lms.memberships.seats import seats_free

# Set by the app factory to the courses package's lookup: given slugs, return those that exist
# as published courses. (memberships must not import courses: the dependency points the other
# way.) Without it, course slugs are accepted as given.
known_courses: Callable[[set[str]], set[str]] | None = None


def normalize_courses(slugs) -> list[str]:
    return sorted({s.strip() for s in slugs if s and s.strip()})


def unknown_courses(slugs: list[str]) -> list[str]:
    if not slugs or known_courses is None:
        return []
    found = known_courses(set(slugs))
    return sorted(set(slugs) - found)


def _ttl():
    return current_app.config["INVITATION_TTL"]


def send_invitation(organization: Organization, invitation, raw: str, inviter):
    """Mail the link of ``invitation`` (an ``Invitation`` or the values of one: email, code,
    name, role, courses)."""
    base_url = current_app.config["BASE_URL"].rstrip("/")
    values = invitation if isinstance(invitation, dict) else _values_of(invitation)
    send_mail(
        values["email"],
        f"{organization.name} invites you to lms",
        "memberships/mail/invitation",
        organization=organization,
        invitation=values,
        inviter=inviter,
        link=f"{base_url}/invitations/{raw}",
        days=_ttl().days,
        check=("invitation", values["code"]),
    )


def _values_of(invitation: Invitation) -> dict:
    return {key: getattr(invitation, key) for key in ("email", "code", "name", "role", "courses")}


def _invitation_still_pending(session, code) -> str | None:
    """Outbox check: an invitation revoked (or gone) before its mail went out is not sent."""
    row = session.execute(_STATE_OF_CODE, {"code": code}).first()
    if row is None:
        return "the invitation no longer exists"
    if row.status != InvitationStatus.PENDING:
        return f"the invitation was {row.status}"
    if row.expires_at <= utcnow():
        return "the invitation expired"
    return None


_STATE_OF_CODE = sa.select(Invitation.status, Invitation.expires_at).where(
    Invitation.code == sa.bindparam("code")
)  # built once: the check runs before each of thousands of mails
outbox.register_check("invitation", _invitation_still_pending)


def invite(
    organization: Organization,
    actor: User,
    *,
    email: str,
    role: str,
    courses: list[str] | None = None,
    name: str = "",
) -> Invitation:
    """Invite one person by email. 409 if they are a member or already invited."""
    email = accounts.normalize_email(email)
    courses = normalize_courses(courses or [])
    missing = unknown_courses(courses)
    if missing:
        raise RuleViolation("Unknown courses: " + ", ".join(missing), errors={"courses": missing})
    if active_member_emails(organization, [email]):
        raise Conflict(f"{email} is already a member.", errors={"email": ["already a member"]})
    if pending_invitation_emails(organization, [email]):
        raise Conflict(f"{email} is already invited.", errors={"email": ["already invited"]})
    if role == MemberRole.LEARNER and seats_free(organization) <= 0:
        raise Conflict("No free seats: add seats or free one before inviting learners.")
    expire_stale(organization, [email])
    invitation, raw = new_invitation(organization, actor, email, role, courses, name)
    db.session.add(invitation)
    db.session.flush()
    send_invitation(organization, invitation, raw, actor)
    return invitation


def new_invitation(organization, actor, email, role, courses, name) -> tuple[Invitation, str]:
    values, raw = new_invitation_values(organization, actor, email, role, courses, name)
    return Invitation(**values), raw


def new_invitation_values(
    organization, actor, email, role, courses, name, now=None
) -> tuple[dict, str]:
    """The column values of a new pending invitation, and its raw token (mailed, never
    stored). A CSV inserts thousands of these at once without building an object each."""
    now = now or utcnow()
    raw = new_secret()
    values = {
        "code": new_code(),
        "organization_id": organization.id,
        "email": email,
        "name": name or "",
        "role": role,
        "courses": courses,
        "token_hash": hash_secret(raw),
        "status": InvitationStatus.PENDING,
        "expires_at": now + _ttl(),
        "invited_by_id": getattr(actor, "id", None),
        "created_at": now,
    }
    return values, raw


def is_pending(now):
    """The condition for an invitation that can still be accepted: pending and not expired."""
    return sa.and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > now)


def pending_invitation_emails(
    organization: Organization, emails: list[str] | None = None
) -> set[str]:
    """The addresses with an invitation to ``organization`` that can still be accepted; with
    ``emails``, only those among them."""
    stmt = sa.select(Invitation.email).where(
        Invitation.organization_id == organization.id, is_pending(utcnow())
    )
    if emails is not None:
        stmt = stmt.where(Invitation.email.in_(emails))
    return set(db.session.scalars(stmt))


def expire_stale(organization: Organization, emails: list[str]) -> None:
    """An expired pending invitation gives way to a new one (keeps the unique index happy).

    The organization's expired pending invitations are read first (few, usually none), so a
    10,000-row CSV does not send 10,000 addresses to the database for nothing."""
    now = utcnow()
    stale = db.session.execute(
        sa.select(Invitation.id, Invitation.email).where(
            Invitation.organization_id == organization.id,
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at <= now,
        )
    ).all()
    wanted = set(emails)
    ids = [row.id for row in stale if row.email in wanted]
    if ids:
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.id.in_(ids))
            .values(status=InvitationStatus.REVOKED, revoked_at=now)
            .execution_options(synchronize_session=False)
        )


def invitations_query(organization: Organization, status: str | None = "pending") -> sa.Select:
    stmt = sa.select(Invitation).where(Invitation.organization_id == organization.id)
    now = utcnow()
    if status == "pending":
        stmt = stmt.where(is_pending(now))
    elif status == "expired":
        stmt = stmt.where(
            Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now
        )
    elif status in ("accepted", "revoked"):
        stmt = stmt.where(Invitation.status == status)
    return stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())


def revoke_invitation(organization: Organization, code: str) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(
            Invitation.organization_id == organization.id, Invitation.code == code
        )
    )
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"This invitation is already {invitation.status}.")
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = utcnow()
    db.session.flush()
    return invitation
