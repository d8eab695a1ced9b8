"""``seed-demo``'s calendar: the demo learners' enrollments, lessons, quizzes, completions and
certificates are spread over the last twelve weeks, so that the report's weekly chart, its
median days to complete and the sponsor's impact page show numbers a person can read.

Deterministic: one ``random.Random`` per enrollment, seeded from a fixed number and the
enrollment's learner and course, and dates relative to today (midnight UTC). Only an
enrollment the seeding has just created is dated, so running ``seed-demo`` again changes
nothing.
"""

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.extensions import db

SEED = 2026
WEEKS = 12
# The demo enrollments, oldest first: each starts about eight days after the one before,
# from about twelve weeks ago, so that they fall in different weeks.
SCHEDULE = [
    ("ben.lab@example.org", "open-source-foundations"),
    ("dana.cohort@example.org", "open-source-foundations"),
    ("eli.cohort@example.org", "open-source-foundations"),
    ("ana.research@example.org", "open-source-foundations"),
    ("fay.cohort@example.org", "open-source-foundations"),
    ("learner@example.org", "open-source-foundations"),
    ("gus.cohort@example.org", "open-source-foundations"),
    ("chen.data@example.org", "responsible-genai-research-software"),
    ("hana.cohort@example.org", "open-source-foundations"),
]
FIRST_DAYS_AGO = 80
DAYS_BETWEEN = 8


def demo_today() -> datetime:
    """Today at midnight (UTC): the demo's dates do not depend on the time of day."""
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def history_start() -> datetime:
    """When the demo's story begins (grants and sponsorships start here): thirteen weeks ago."""
    return demo_today() - timedelta(weeks=WEEKS + 1)


def date_enrollment(enrollment) -> None:
    """Move a just-seeded enrollment's timestamps into the past, in the order its lessons were
    done: started on its slot's day, lessons a few hours to a few days apart, completed (and
    its certificate issued) after the last one."""
    from lms.certificates.models import Certificate
    from lms.courses.models import Lesson
    from lms.memberships.models import OrganizationMember
    from lms.progress.models import Enrollment, LessonProgress, QuizAttempt

    key = (enrollment.learner_email, enrollment.course_slug)
    slot = SCHEDULE.index(key) if key in SCHEDULE else len(SCHEDULE)
    rng = random.Random(f"{SEED}:{key[0]}:{key[1]}")  # noqa: S311 (dates, not secrets)
    days_ago = max(FIRST_DAYS_AGO - slot * DAYS_BETWEEN + rng.randint(-2, 2), 3)
    start = demo_today() - timedelta(days=days_ago, hours=-rng.randint(8, 17))
    rows = db.session.execute(
        sa.select(LessonProgress, Lesson.position)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.enrollment_id == enrollment.id)
        .order_by(Lesson.position)
    ).all()
    completed = enrollment.completed_at is not None
    # A finisher takes one to four weeks; the others are part-way, still within their time.
    span_days = rng.uniform(7, 28) if completed else rng.uniform(1, 10)
    span = timedelta(days=min(span_days, days_ago - 1.5))
    weights = [rng.uniform(0.2, 1.0) for _ in rows] or [1.0]
    total = sum(weights)
    moment = start
    for (progress, _position), weight in zip(rows, weights, strict=False):
        moment = moment + span * (weight / total)
        progress.first_viewed_at = moment - timedelta(minutes=rng.randint(5, 40))
        progress.updated_at = moment
        if progress.completed_at is not None:
            progress.completed_at = moment
        db.session.execute(
            sa.update(QuizAttempt)
            .where(
                QuizAttempt.enrollment_id == enrollment.id,
                QuizAttempt.lesson_id == progress.lesson_id,
            )
            .values(created_at=moment)
        )
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .values(
            started_at=start,
            last_activity_at=moment,
            completed_at=moment if completed else None,
        )
    )
    if completed:
        db.session.execute(
            sa.update(Certificate)
            .where(Certificate.enrollment_id == enrollment.id)
            .values(completed_at=moment, issued_at=moment + timedelta(minutes=1))
        )
    # They joined the organization before they started.
    db.session.execute(
        sa.update(OrganizationMember)
        .where(
            OrganizationMember.organization_id == enrollment.organization_id,
            OrganizationMember.user_id == enrollment.user_id,
            OrganizationMember.joined_at > start,
        )
        .values(joined_at=start - timedelta(days=1))
    )
    db.session.flush()
    db.session.expire(enrollment)
