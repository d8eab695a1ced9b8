"""CSV enrollment: invite everyone in a file (email,name,role,courses). Every row gets a
result; valid rows are applied even when others are rejected; a dry run changes nothing."""

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import RuleViolation
from lms.core.extensions import db
from lms.memberships.invitations import (
    expire_stale,
    new_invitation_values,
    normalize_courses,
    pending_invitation_emails,
    send_invitation,
    unknown_courses,
)
from lms.memberships.members import active_member_emails
from lms.memberships.models import Invitation, MemberRole, Organization
from lms.memberships.organizations import lock_organization
from lms.memberships.schemas import InvitationIn
from lms.memberships.seats import seats_free

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

    lock_organization(organization)
    members = active_member_emails(organization)
    invited = pending_invitation_emails(organization)
    free = seats_free(organization)
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
    expire_stale(organization, [result.email for result, _ in rows])
    now = utcnow()
    made = [
        new_invitation_values(
            organization, actor, result.email, result.role, result.courses, name, now
        )
        for result, name in rows
    ]
    # One multi-row INSERT for the whole file, not one round trip (or one object) per person.
    db.session.execute(sa.insert(Invitation.__table__), [values for values, _ in made])
    for values, raw in made:
        send_invitation(organization, values, raw, actor)
