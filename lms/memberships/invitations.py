"""Invitations: one by one or from a CSV file; accepted once, by a new or an existing person.

A pending learner invitation takes no seat; accepting it does, under a lock on the
organization, so concurrent acceptances can never take more seats than there are.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from marshmallow import ValidationError

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core import outbox
from lms.core.db import utcnow
from lms.core.errors import Conflict, Forbidden, Gone, NotFound, RuleViolation
from lms.core.extensions import db
from lms.core.mail import send_mail
from lms.core.tokens import hash_secret, new_code, new_secret
from lms.memberships import services
from lms.memberships.models import (
    Invitation,
    InvitationStatus,
    MemberRole,
    MemberStatus,
    Organization,
    OrganizationMember,
)
from lms.memberships.schemas import InvitationIn

signals = Namespace()
# Sent after an invitation was accepted (same transaction): sender=the Invitation,
# member=the OrganizationMember. The progress package enrolls the named courses.
invitation_accepted = signals.signal("invitation-accepted")

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


def _send_invitation(organization: Organization, invitation: Invitation, raw: str, inviter):
    base_url = current_app.config["BASE_URL"].rstrip("/")
    send_mail(
        invitation.email,
        f"{organization.name} invites you to lms",
        "memberships/mail/invitation",
        organization=organization,
        invitation=invitation,
        inviter=inviter,
        link=f"{base_url}/invitations/{raw}",
        days=_ttl().days,
        check=("invitation", invitation.code),
    )


def _invitation_still_pending(session, code) -> str | None:
    """Outbox check: an invitation revoked (or gone) before its mail went out is not sent."""
    row = session.execute(
        sa.select(Invitation.status, Invitation.expires_at).where(Invitation.code == code)
    ).first()
    if row is None:
        return "the invitation no longer exists"
    if row.status != InvitationStatus.PENDING:
        return f"the invitation was {row.status}"
    if row.expires_at <= utcnow():
        return "the invitation expired"
    return None


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
    if _is_active_member(organization, email):
        raise Conflict(f"{email} is already a member.", errors={"email": ["already a member"]})
    pending = _pending_invitation(organization, email)
    if pending is not None:
        raise Conflict(f"{email} is already invited.", errors={"email": ["already invited"]})
    if role == MemberRole.LEARNER and services.seats_free(organization) <= 0:
        raise Conflict("No free seats: add seats or free one before inviting learners.")
    _expire_stale(organization, [email])
    invitation, raw = _new_invitation(organization, actor, email, role, courses, name)
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(organization, invitation, raw, actor)
    return invitation


def _new_invitation(organization, actor, email, role, courses, name) -> tuple[Invitation, str]:
    raw = new_secret()
    invitation = Invitation(
        code=new_code(),
        organization_id=organization.id,
        email=email,
        name=name or "",
        role=role,
        courses=courses,
        token_hash=hash_secret(raw),
        status=InvitationStatus.PENDING,
        expires_at=utcnow() + _ttl(),
        invited_by_id=getattr(actor, "id", None),
    )
    return invitation, raw


def _is_active_member(organization: Organization, email: str) -> bool:
    return (
        db.session.scalar(
            sa.select(OrganizationMember.id)
            .join(User, User.id == OrganizationMember.user_id)
            .where(
                OrganizationMember.organization_id == organization.id,
                OrganizationMember.status == MemberStatus.ACTIVE,
                User.email == email,
            )
        )
        is not None
    )


def _pending_invitation(organization: Organization, email: str) -> Invitation | None:
    return db.session.scalar(
        sa.select(Invitation).where(
            Invitation.organization_id == organization.id,
            Invitation.email == email,
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at > utcnow(),
        )
    )


def _expire_stale(organization: Organization, emails: list[str]) -> None:
    """An expired pending invitation gives way to a new one (keeps the unique index happy)."""
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.organization_id == organization.id,
            Invitation.email.in_(emails),
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at <= utcnow(),
        )
        .values(status=InvitationStatus.REVOKED, revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def invitations_query(organization: Organization, status: str | None = "pending") -> sa.Select:
    stmt = sa.select(Invitation).where(Invitation.organization_id == organization.id)
    now = utcnow()
    if status == "pending":
        stmt = stmt.where(
            Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > now
        )
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


# -- accepting --------------------------------------------------------------------------


def find_invitation(raw_token: str) -> Invitation:
    """The invitation behind a link, or an error that says why it no longer works."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_secret(raw_token))
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid. Check that you copied all of it.")
    state = invitation.state(utcnow())
    if state == "expired":
        raise Gone("This invitation has expired. Ask the organization for a new one.")
    if state == InvitationStatus.REVOKED:
        raise Gone("This invitation was withdrawn by the organization.")
    if state == InvitationStatus.ACCEPTED:
        raise Gone("This invitation has already been used. Log in to continue.")
    return invitation


def account_holding(invitation: Invitation) -> User | None:
    """The account that already uses the invitation's address, if any."""
    return accounts.get_user_by_email(invitation.email)


@dataclass
class Acceptance:
    member: OrganizationMember
    user: User
    created_account: bool
    # An unverified account held the address and the acceptor took it over.
    claimed_account: bool = False


CLAIM_NOTICE = "An unconfirmed account uses this address; choosing a password here makes it yours."


def _require_name_and_password(name, password, message: str) -> None:
    if not name or not password:
        raise RuleViolation(
            message,
            errors={k: ["Required."] for k, v in (("name", name), ("password", password)) if not v},
        )


def accept_invitation(
    raw_token: str,
    user: User | None = None,
    *,
    name: str | None = None,
    password: str | None = None,
) -> Acceptance:
    """Accept as the logged-in ``user``, or as a new person with ``name`` and ``password``.

    The mailed link proves the address. When an unverified account holds it (someone may have
    registered it first), the acceptor takes that account over, logged in or not: ``name`` and
    ``password`` replace the account's, and every session and API token of it ends. A verified
    account must log in and accept.

    The seat is taken under a lock on the organization: when it is full, 409 "no free seats".
    """
    invitation = find_invitation(raw_token)
    organization = invitation.organization
    if user is not None and user.email != invitation.email:
        raise Forbidden(
            f"This invitation is for {invitation.email}; you are logged in as {user.email}."
        )
    holder = user or account_holding(invitation)
    created = claimed = False
    if holder is not None and not holder.email_verified:
        _require_name_and_password(
            name, password, CLAIM_NOTICE + " Choose your name and a new password."
        )
        user = accounts.claim_account(holder, name, password)
        claimed = True
    elif user is None:
        if holder is not None:
            raise Conflict(
                f"An account for {invitation.email} exists: log in, then accept the invitation."
            )
        _require_name_and_password(
            name, password, "Choose your name and a password to create your account."
        )
        user = accounts.register_user(invitation.email, password, name, verified=True)
        created = True
    # Whoever follows the mailed link proves the address. An unverified account therefore
    # never joins as it is: it joins only after the acceptor claimed it above.
    accounts.mark_email_verified(user)

    services.lock_organization(organization)
    member = services.add_member(organization, user, invitation.role)
    # Conditional update: two requests with the same link cannot both use it.
    used = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.status == InvitationStatus.PENDING)
        .values(status=InvitationStatus.ACCEPTED, accepted_at=utcnow(), accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Gone("This invitation has already been used.")
    db.session.refresh(invitation)
    invitation_accepted.send(invitation, member=member)
    return Acceptance(member=member, user=user, created_account=created, claimed_account=claimed)


# -- CSV enrollment ---------------------------------------------------------------------

CSV_COLUMNS = ("email", "name", "role", "courses")


@dataclass
class RowResult:
    row: int  # the line in the file (the header is line 1)
    email: str
    status: str  # created | already_member | already_invited | rejected
    reason: str = ""
    role: str = ""
    courses: list[str] = field(default_factory=list)


@dataclass
class CsvReport:
    dry_run: bool
    rows: list[RowResult]
    seats_free: int

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


def _read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation(
            "The file is not UTF-8 text. Save the CSV as UTF-8 and try again.",
            errors={"file": ["not UTF-8"]},
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise RuleViolation(f"The CSV cannot be read: {exc}.") from None
    if not header:
        raise RuleViolation("The file is empty.", errors={"file": ["empty"]})
    return [h.strip().lower() for h in header], rows


# A row is checked by the single invitation's own schema, so the rules are written once.
_ROW_SCHEMA = InvitationIn()


def _row_problems(messages: dict, row: dict) -> str:
    """A schema's messages as one line for the report: each field with the value it got."""
    problems = []
    for name, found in messages.items():
        if isinstance(found, dict):  # a list field: {index: [messages]}
            problems.extend(
                f"{name} {_shown(row[name][index])}: {' '.join(texts)}"
                for index, texts in found.items()
            )
        elif name in row:
            problems.append(f"{name} {_shown(row[name])}: {' '.join(found)}")
        elif name == "_schema":
            problems.append(" ".join(found))
        else:
            problems.append(f"{name}: {' '.join(found)}")
    return "; ".join(problems)


def _shown(value, limit: int = 40) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_header(header: list[str]) -> None:
    unknown = [h for h in header if h not in CSV_COLUMNS]
    problems = []
    if "email" not in header:
        problems.append("an 'email' column is required")
    if unknown:
        problems.append("unknown columns: " + ", ".join(repr(h) for h in unknown))
    if len(set(header)) != len(header):
        problems.append("a column appears twice")
    if problems:
        raise RuleViolation(
            "The CSV headers are wrong: "
            + "; ".join(problems)
            + f". Use the columns {', '.join(CSV_COLUMNS)} (only email is required).",
            errors={"header": problems},
        )


def import_csv(organization: Organization, actor: User, data: bytes, *, dry_run: bool) -> CsvReport:
    """Invite everyone in a CSV (email,name,role,courses). Every row gets a result: created,
    already a member, already invited, or rejected with the reason. Valid rows are applied
    even when others are rejected; ``dry_run`` reports the same without changing anything.
    """
    header, raw_rows = _read_csv(data)
    _check_header(header)
    max_rows = current_app.config["INVITATION_CSV_MAX_ROWS"]
    if len(raw_rows) > max_rows:
        raise RuleViolation(f"The CSV has more than {max_rows} rows; split it into parts.")

    services.lock_organization(organization)
    members = set(
        db.session.scalars(
            sa.select(User.email)
            .join(OrganizationMember, OrganizationMember.user_id == User.id)
            .where(
                OrganizationMember.organization_id == organization.id,
                OrganizationMember.status == MemberStatus.ACTIVE,
            )
        )
    )
    now = utcnow()
    invited = set(
        db.session.scalars(
            sa.select(Invitation.email).where(
                Invitation.organization_id == organization.id,
                Invitation.status == InvitationStatus.PENDING,
                Invitation.expires_at > now,
            )
        )
    )
    free = services.seats_free(organization)
    seats_left = free
    wanted_courses = set()
    parsed = []
    for line, cells in raw_rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        values = dict(zip(header, (c.strip() for c in cells), strict=False))
        courses = normalize_courses(values.get("courses", "").replace("|", " ").split())
        wanted_courses.update(courses)
        parsed.append((line, cells, values, courses))
    missing_courses = set(unknown_courses(sorted(wanted_courses)))

    results: list[RowResult] = []
    first_seen: dict[str, int] = {}
    to_create = []
    for line, cells, values, courses in parsed:
        role = (values.get("role") or MemberRole.LEARNER).lower()
        result = RowResult(
            row=line,
            email=accounts.normalize_email(values.get("email", "")),
            status="rejected",
            role=role,
            courses=courses,
        )
        results.append(result)
        if len(cells) > len(header):
            result.reason = f"the row has {len(cells)} cells; the header has {len(header)}"
            continue
        row = {**values, "role": role, "courses": courses}
        try:
            invitation = _ROW_SCHEMA.load(row)
        except ValidationError as exc:
            result.reason = _row_problems(exc.messages, row)
            continue
        email = result.email = accounts.normalize_email(invitation["email"])
        role = result.role = invitation["role"]
        courses = result.courses = invitation["courses"]
        if email in first_seen:
            result.reason = f"duplicate of row {first_seen[email]}"
            continue
        first_seen[email] = line
        bad = sorted(set(courses) & missing_courses)
        if bad:
            result.reason = "unknown course: " + ", ".join(bad)
            continue
        if email in members:
            result.status, result.reason = "already_member", ""
            continue
        if email in invited:
            result.status, result.reason = "already_invited", ""
            continue
        if role == MemberRole.LEARNER:
            if seats_left <= 0:
                result.reason = f"no free seats (the organization had {free} free)"
                continue
            seats_left -= 1
        result.status = "created"
        to_create.append((result, invitation["name"]))

    if not dry_run and to_create:
        _create_many(organization, actor, to_create)
    return CsvReport(dry_run=dry_run, rows=results, seats_free=free)


def _create_many(organization: Organization, actor: User, rows) -> None:
    _expire_stale(organization, [result.email for result, _ in rows])
    made = []
    for result, name in rows:
        invitation, raw = _new_invitation(
            organization, actor, result.email, result.role, result.courses, name
        )
        made.append((invitation, raw))
    # One multi-row INSERT for the whole file, not one round trip per person.
    db.session.execute(
        sa.insert(Invitation),
        [
            {
                "code": inv.code,
                "organization_id": inv.organization_id,
                "email": inv.email,
                "name": inv.name,
                "role": inv.role,
                "courses": inv.courses,
                "token_hash": inv.token_hash,
                "status": inv.status,
                "expires_at": inv.expires_at,
                "invited_by_id": inv.invited_by_id,
                "created_at": utcnow(),
            }
            for inv, _ in made
        ],
    )
    for invitation, raw in made:
        _send_invitation(organization, invitation, raw, actor)
