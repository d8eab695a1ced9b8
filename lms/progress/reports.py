"""Organization reports: one row per learner and course, a CSV of everything, a summary, the
completions per week, and the report page that shows them together.

Everything reads the per-enrollment counters; no request aggregates raw progress rows.
"""

import csv
import io
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import text_search, utcnow
from lms.core.extensions import db
from lms.core.paging import PageInfo, page_of, window, with_total
from lms.courses.models import Course, CourseVersion
from lms.memberships.models import Organization
from lms.progress.models import Enrollment, EnrollmentStatus, EnrollmentTally

COLUMNS = {
    "enrollment_id": Enrollment.id,
    "user_id": Enrollment.user_id,
    "name": User.name,
    "email": User.email,
    "course": Course.slug,
    "version": CourseVersion.label,
    "percent_complete": Enrollment.percent_complete,
    "lessons_done": Enrollment.lessons_done,
    "quizzes_passed": Enrollment.quizzes_passed,
    "status": Enrollment.status,
    "started_at": Enrollment.started_at,
    "last_activity_at": Enrollment.last_activity_at,
    "completed_at": Enrollment.completed_at,
    # The current certificate's code, copied onto the enrollment by the certificates package.
    "certificate": Enrollment.certificate_code,
}
SORTS = {
    # Enrollment order: served by the (organization_id, id) index without sorting.
    "enrolled": Enrollment.id,
    # The rest read copies on ``enrollments`` and are served by (organization_id, key, id)
    # indexes: no join, no sort of the whole organization.
    "name": Enrollment.learner_name,
    "email": Enrollment.learner_email,
    "course": Enrollment.course_slug,
    "percent": Enrollment.percent_complete,
    "started": Enrollment.started_at,
    "last_activity": Enrollment.last_activity_at,
    "completed": Enrollment.completed_at,
}

# The report's ``status`` filter and the enrollment status it shows.
STATUS_FILTERS = {"completed": EnrollmentStatus.COMPLETED, "in_progress": EnrollmentStatus.ACTIVE}


@dataclass(frozen=True)
class Report:
    """A filtered, sorted report of an organization, read in two steps: the page of
    enrollment ids first (from ``enrollments`` alone, on an index for every sort order), then
    the joins for only those rows. The whole organization is never joined and sorted to show
    fifty rows.

    Its statements are built once per shape (the sort, which filters are used, the page size:
    ``_template``) with the organization, course, date and offset as bind parameters; a
    request only binds them. Building them took a tenth of a report page. A search is written
    into its statement (LIKE's escaping needs the text), so searches are built each time."""

    organization_id: int
    course: str | None = None
    status: str | None = None
    search: str | None = None
    active_since: datetime | None = None
    certificate: str | None = None  # "issued" or "none"
    sort: str = "enrolled"

    # The statements of a page (``lms.core.paging.PagedQuery``) and of the CSV.

    def count_statement(self) -> sa.Select:
        return self._statement("count")

    def page_statement(self, limit: int, offset: int) -> sa.Select:
        return self._statement("page", limit, offset=offset)

    def rows_statement(self) -> sa.Select:
        """Every row, in order (the CSV)."""
        return self._statement("rows")

    def _statement(self, part: str, limit: int | None = None, **values) -> sa.Select:
        if self.search:
            return _build(self, part, limit).params(**values)
        shape = (self.sort, self.course is not None, self.status, self.certificate)
        template = _template(*shape, self.active_since is not None, part, limit)
        return template.params(
            organization_id=self.organization_id,
            course=self.course,
            active_since=self.active_since,
            **values,
        )

    def _keyed(self, table) -> list:
        """The filters the tallies key on (course, status, certificate), as conditions on
        ``table``: ``Enrollment`` or ``EnrollmentTally``, which name them alike."""
        conditions = [table.organization_id == self.organization_id]
        if self.course is not None:
            conditions.append(table.course_slug == self.course)
        if self.status in STATUS_FILTERS:
            conditions.append(table.status == STATUS_FILTERS[self.status])
        if self.certificate:
            conditions.append(table.certified.is_(self.certificate == "issued"))
        return conditions

    def _ids(self) -> sa.Select:
        key = SORTS[self.sort.lstrip("-")]
        stmt = sa.select(Enrollment.id.label("id"), key.label("sort_key")).where(
            *self._keyed(Enrollment)
        )
        if self.search:
            stmt = stmt.where(
                text_search(self.search, Enrollment.learner_email, Enrollment.learner_name)
            )
        if self.active_since is not None:
            stmt = stmt.where(Enrollment.last_activity_at >= self.active_since)
        return stmt

    def _count(self) -> sa.Select:
        """The total: from the tallies (a few rows an organization, kept by triggers) for
        every filter they key on, so a page costs the same in an organization of 20 or
        20,000 enrollments; a search or an activity date counts the matching enrollments."""
        if self.search or self.active_since is not None:
            return sa.select(sa.func.count()).select_from(self._ids().subquery())
        total = sa.func.coalesce(sa.func.sum(EnrollmentTally.n), 0)
        return sa.select(total).where(*self._keyed(EnrollmentTally))

    def _rows(self, limit: int | None = None) -> sa.Select:
        ids = self._ids()
        key = SORTS[self.sort.lstrip("-")]
        # The tie-breaker runs in the same direction, so a descending page is a backward
        # scan of the same (organization_id, key, id) index.
        descending = self.sort.startswith("-")
        ordered = ids.order_by(
            *((key.desc(), Enrollment.id.desc()) if descending else (key.asc(), Enrollment.id))
        )
        if limit is not None:
            ordered = window(ordered, limit, sa.bindparam("offset"))
        page = ordered.subquery("page")
        order = (
            (page.c.sort_key.desc(), page.c.id.desc())
            if descending
            else (page.c.sort_key.asc(), page.c.id)
        )
        return (
            sa.select(*(column.label(name) for name, column in COLUMNS.items()))
            .select_from(page)
            .join(Enrollment, Enrollment.id == page.c.id)
            .join(User, User.id == Enrollment.user_id)
            .join(Course, Course.id == Enrollment.course_id)
            .join(CourseVersion, CourseVersion.id == Enrollment.version_id)
            .order_by(*order)
        )


def _build(report: Report, part: str, limit: int | None) -> sa.Select:
    if part == "count":
        return report._count()
    if part == "page":
        return with_total(report._rows(limit), report._count())
    return report._rows()


@lru_cache(maxsize=512)
def _template(sort, has_course, status, certificate, has_since, part, limit) -> sa.Select:
    """The statement ``part`` of a report of this shape, its values bind parameters."""
    shape = Report(
        organization_id=sa.bindparam("organization_id"),
        course=sa.bindparam("course") if has_course else None,
        status=status,
        certificate=certificate,
        active_since=sa.bindparam("active_since") if has_since else None,
        sort=sort,
    )
    return _build(shape, part, limit)


def report_query(organization: Organization, **filters) -> Report:
    """The organization's report; a filter given as None or "" is no filter."""
    given = {name: value for name, value in filters.items() if value not in (None, "")}
    return Report(organization_id=organization.id, **given)


CSV_HEADER = [name for name in COLUMNS if name not in ("enrollment_id", "user_id")]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    # A cell that a spreadsheet would run as a formula is quoted (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(report: Report) -> Iterator[str]:
    """The whole report as CSV lines (``lms.core.responses.csv_download`` sends them): rows
    come from a server-side cursor in batches, so memory stays flat however large the
    organization."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    stmt = report.rows_statement()
    result = db.session.execute(stmt.execution_options(yield_per=2000))
    for batch in result.mappings().partitions():
        buffer.seek(0)
        buffer.truncate()
        for row in batch:
            writer.writerow([_cell(row[name]) for name in CSV_HEADER])
        yield buffer.getvalue()


@dataclass
class CourseSummary:
    course: str
    title: str
    enrolled: int
    completed: int
    median_days_to_complete: float | None

    @property
    def in_progress(self) -> int:
        return self.enrolled - self.completed

    @property
    def completion_rate(self) -> float:
        return round(self.completed / self.enrolled, 4) if self.enrolled else 0.0


def _days(dialect: str):
    if dialect == "postgresql":
        return sa.extract("epoch", Enrollment.completed_at - Enrollment.started_at) / 86400.0
    return sa.func.julianday(Enrollment.completed_at) - sa.func.julianday(Enrollment.started_at)


def summary(organization: Organization) -> list[CourseSummary]:
    """Per course: enrolled, in progress, completed, completion rate, median days to complete.

    One query on PostgreSQL (the median is ``percentile_cont``); SQLite has no percentile
    function, so there the completed durations are read and the median taken in Python.
    """
    dialect = db.session.get_bind().dialect.name
    completed = sa.func.sum(
        sa.case((Enrollment.status == EnrollmentStatus.COMPLETED.value, 1), else_=0)
    )
    columns = [Course.slug, Course.title, sa.func.count(Enrollment.id), completed]
    if dialect == "postgresql":
        columns.append(sa.func.percentile_cont(0.5).within_group(_days(dialect)))
    stmt = (
        sa.select(*columns)
        .join(Course, Course.id == Enrollment.course_id)
        .where(Enrollment.organization_id == organization.id)
        .group_by(Course.slug, Course.title)
        .order_by(Course.title)
    )
    rows = db.session.execute(stmt).all()
    medians: dict[str, float | None] = {}
    if dialect == "postgresql":
        medians = {row[0]: row[4] for row in rows}
    else:
        durations: dict[str, list[float]] = {}
        for slug, days in db.session.execute(
            sa.select(Course.slug, _days(dialect))
            .join(Course, Course.id == Enrollment.course_id)
            .where(
                Enrollment.organization_id == organization.id,
                Enrollment.completed_at.is_not(None),
            )
        ):
            durations.setdefault(slug, []).append(days)
        medians = {slug: statistics.median(values) for slug, values in durations.items()}
    return [
        CourseSummary(
            course=slug,
            title=title,
            enrolled=enrolled,
            completed=int(done or 0),
            median_days_to_complete=(
                round(float(medians[slug]), 1) if medians.get(slug) is not None else None
            ),
        )
        for slug, title, enrolled, done, *_ in rows
    ]


def completions_per_week(organization: Organization, weeks: int = 12) -> list[tuple[str, int]]:
    """(week starting Monday, completions) for the last ``weeks`` weeks, oldest first."""
    now = utcnow()
    this_monday = (now - timedelta(days=now.weekday())).date()
    first = this_monday - timedelta(weeks=weeks - 1)
    counts = {first + timedelta(weeks=i): 0 for i in range(weeks)}
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    for (completed_at,) in db.session.execute(
        sa.select(Enrollment.completed_at).where(
            Enrollment.organization_id == organization.id, Enrollment.completed_at >= since
        )
    ):
        monday = (completed_at - timedelta(days=completed_at.weekday())).date()
        if monday in counts:
            counts[monday] += 1
    return [(monday.isoformat(), count) for monday, count in counts.items()]


REPORT_PAGE_SIZE = 50


@dataclass
class ReportPage:
    """The organization's report page: a page of learners, the per-course summary and the
    completions per week."""

    rows: list
    page: PageInfo
    summary: list[CourseSummary]
    weeks: list[tuple[str, int]]

    @property
    def courses(self) -> list[str]:
        """The courses to filter by: those the organization's learners are enrolled in."""
        return sorted(course.course for course in self.summary)

    @property
    def week_max(self) -> int:
        """The chart's scale: the busiest week (at least 1)."""
        return max([count for _, count in self.weeks] + [1])


def report_page(
    organization: Organization, number: int = 1, size: int = REPORT_PAGE_SIZE, **filters
) -> ReportPage:
    """Page ``number`` of the filtered, sorted report, with the summary and the chart: two
    statements for the page (as the API's), the summary's (``summary``) and one for the chart."""
    page = page_of(report_query(organization, **filters), number, size)
    return ReportPage(
        rows=page.items,
        page=page.info,
        summary=summary(organization),
        weeks=completions_per_week(organization),
    )
