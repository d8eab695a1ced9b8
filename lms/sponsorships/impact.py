"""The impact report: what a sponsor's money did, in counts only.

Per funded organization and course: seats funded now, learners, enrollments, completions and
certificates, for the enrollments active while the sponsor funded the organization; and the
completions per month. No names, no emails. As education reports do, a count of 1 to 4 learners
is suppressed (shown as "fewer than 5"), so that no figure points at a person.
"""

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships.models import Organization
from lms.progress.models import Enrollment
from lms.sponsorships.models import Sponsor, Sponsorship
from lms.sponsorships.seats import GRACE, KEEPS_SEATS

MIN_CELL = 5

# Set by the certificates package: (organization id, course slug, since, until) -> how many
# certificates were issued (and not revoked) in that window. None until it is wired: the
# report then shows no certificate figures rather than a guess.
count_certificates: Callable[[int, str, datetime, datetime], int] | None = None


def suppressed(count: int | None) -> int | None:
    """The count when it may be shown; None for 1-4 (fewer than five learners)."""
    if count is None or count == 0 or count >= MIN_CELL:
        return count
    return None


@dataclass
class ImpactRow:
    organization: str  # slug
    organization_name: str
    course: str  # slug
    seats_funded: int
    learners: int | None
    enrollments: int | None
    completions: int | None
    certificates: int | None


@dataclass
class Impact:
    sponsor: Sponsor
    rows: list[ImpactRow] = field(default_factory=list)
    months: list[tuple[str, int | None]] = field(default_factory=list)  # ("2026-03", count)


def _windows(sponsor: Sponsor, now: datetime) -> dict[int, tuple[datetime, datetime, int]]:
    """Per funded organization: (funded since, funded until, seats funded now)."""
    sponsorships = db.session.scalars(
        sa.select(Sponsorship).where(
            Sponsorship.sponsor_id == sponsor.id, Sponsorship.period_starts_at.is_not(None)
        )
    ).all()
    windows: dict[int, tuple[datetime, datetime, int]] = {}
    for s in sponsorships:
        grant_end = s.grant.ends_at if s.grant is not None else s.period_ends_at
        until = min(grant_end or now, now)
        funding_now = (
            s.status in KEEPS_SEATS | GRACE and s.grant is not None and s.grant.is_active(now)
        )
        seats_now = s.seats if funding_now else 0
        if s.organization_id in windows:
            since0, until0, seats0 = windows[s.organization_id]
            windows[s.organization_id] = (
                min(since0, s.period_starts_at),
                max(until0, until),
                seats0 + seats_now,
            )
        else:
            windows[s.organization_id] = (s.period_starts_at, until, seats_now)
    return windows


def impact_report(sponsor: Sponsor, now: datetime | None = None) -> Impact:
    now = now or utcnow()
    impact = Impact(sponsor=sponsor)
    monthly: Counter[str] = Counter()
    windows = _windows(sponsor, now)
    names = dict(
        db.session.execute(
            sa.select(Organization.id, Organization.slug).where(Organization.id.in_(windows))
        ).all()
    )
    titles = dict(
        db.session.execute(
            sa.select(Organization.id, Organization.name).where(Organization.id.in_(windows))
        ).all()
    )
    for organization_id, (since, until, seats) in sorted(windows.items(), key=lambda w: w[0]):
        during = sa.and_(
            Enrollment.organization_id == organization_id,
            Enrollment.started_at < until,
            sa.or_(Enrollment.completed_at.is_(None), Enrollment.completed_at >= since),
        )
        rows = db.session.execute(
            sa.select(
                Enrollment.course_slug,
                sa.func.count(sa.distinct(Enrollment.user_id)),
                sa.func.count(),
                sa.func.count(Enrollment.completed_at),
            )
            .where(during)
            .group_by(Enrollment.course_slug)
            .order_by(Enrollment.course_slug)
        ).all()
        if not rows:
            rows = [("", 0, 0, 0)]
        for course, learners, enrollments, completions in rows:
            certificates = None
            if count_certificates is not None and course:
                certificates = count_certificates(organization_id, course, since, until)
            impact.rows.append(
                ImpactRow(
                    organization=names[organization_id],
                    organization_name=titles[organization_id],
                    course=course,
                    seats_funded=seats,
                    learners=suppressed(learners),
                    enrollments=suppressed(enrollments),
                    completions=suppressed(completions),
                    certificates=suppressed(certificates),
                )
            )
        completed = db.session.scalars(
            sa.select(Enrollment.completed_at).where(
                during, Enrollment.completed_at.is_not(None), Enrollment.completed_at < until
            )
        ).all()
        monthly.update(moment.strftime("%Y-%m") for moment in completed)
    impact.months = [(month, suppressed(monthly[month])) for month in sorted(monthly)]
    return impact


# -- presentation: the SVG chart and the CSV export --------------------------------------------

CSV_COLUMNS = (
    "organization",
    "course",
    "seats_funded",
    "learners",
    "enrollments",
    "completions",
    "certificates",
)
SUPPRESSED = "<5"


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text  # a spreadsheet would run it as a formula
    return text


def impact_csv(impact: Impact) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in impact.rows:
        counts = [row.learners, row.enrollments, row.completions, row.certificates]
        shown = [SUPPRESSED if c is None else c for c in counts]
        if count_certificates is None:
            shown[-1] = ""  # not wired: no figure rather than a guess
        writer.writerow([_cell(row.organization), _cell(row.course), row.seats_funded, *shown])
    return buffer.getvalue()


@dataclass
class Bar:
    label: str
    value: int | None
    x: int
    y: int
    height: int


def chart_bars(months: list[tuple[str, int | None]], *, height: int = 120, width: int = 28):
    """Bar geometry for the completions-per-month SVG (a suppressed month is drawn empty)."""
    top = max((v for _, v in months if v), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(months):
        bar_height = round((value or 0) / top * height)
        bars.append(
            Bar(label, value, index * (width + 8) + 8, height - bar_height + 10, bar_height)
        )
    return bars
