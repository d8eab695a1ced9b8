"""Data the journeys need beyond the demo, written through the services in this process on the
server's own database (``Served.app``); never through the pages under test."""

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.core.extensions import db
from tests.courses.builders import make_course

LINK = re.compile(r"https?://127\.0\.0\.1:\d+/\S+")


def organization_with_invitation(app, folder: Path, slug: str, email: str) -> None:
    """An organization with five seats, the tiny test course published, and an invitation
    mailed to ``email`` (through the outbox, to the SMTP sink)."""
    from lms.accounts.services import get_user_by_email
    from lms.courses import services as courses
    from lms.memberships import invitations
    from lms.memberships import services as memberships

    with app.app_context():
        courses.import_course_folder(make_course(folder), publish=True)
        organization = memberships.create_organization(
            None, {"slug": slug, "name": "E2E Research Lab", "kind": "university_ospo"}
        )
        today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        memberships.record_grant(
            organization,
            None,
            seats=5,
            starts_at=today - timedelta(days=1),
            ends_at=today + timedelta(days=90),
            note="e2e",
        )
        invitations.invite(
            organization, get_user_by_email("admin@example.org"), email=email, role="learner"
        )
        db.session.commit()


def link_in(message, path_part: str) -> str:
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    links = [link.rstrip(".,)>\"'") for link in LINK.findall(body) if path_part in link]
    assert links, body
    return links[0]


def enrollment(app, email: str, course: str):
    """(enrollment id, [(lesson slug, is_quiz), ...] in course order)."""
    from lms.accounts.services import get_user_by_email
    from lms.courses.models import Lesson
    from lms.progress.models import Enrollment

    with app.app_context():
        user = get_user_by_email(email)
        row = db.session.execute(
            sa.select(Enrollment.id, Enrollment.version_id).where(
                Enrollment.user_id == user.id, Enrollment.course_slug == course
            )
        ).one()
        lessons = db.session.execute(
            sa.select(Lesson.slug, Lesson.kind)
            .where(Lesson.version_id == row.version_id)
            .order_by(Lesson.position)
        ).all()
        return row.id, [(slug, kind == "quiz") for slug, kind in lessons]


def count_attempts(app, enrollment_id: int) -> int:
    from lms.progress.models import QuizAttempt

    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.enrollment_id == enrollment_id)
        )


def progress_rows(app, enrollment_id: int) -> list[tuple]:
    from lms.progress.models import LessonProgress

    with app.app_context():
        return db.session.execute(
            sa.select(LessonProgress.lesson_id, LessonProgress.status).where(
                LessonProgress.enrollment_id == enrollment_id
            )
        ).all()


def certificate_code(app, email: str) -> str:
    from lms.accounts.services import get_user_by_email
    from lms.certificates.models import Certificate

    with app.app_context():
        user = get_user_by_email(email)
        return db.session.scalar(
            sa.select(Certificate.code).where(Certificate.user_id == user.id).limit(1)
        )


def first_open_lesson(app, email: str, course: str, quiz: bool = False) -> tuple[int, str]:
    """(enrollment id, slug) of the first reading lesson (or quiz) not yet completed."""
    from lms.accounts.services import get_user_by_email
    from lms.courses.models import Lesson
    from lms.progress.models import Enrollment, LessonProgress

    with app.app_context():
        user = get_user_by_email(email)
        enrollment = db.session.scalars(
            sa.select(Enrollment).where(
                Enrollment.user_id == user.id, Enrollment.course_slug == course
            )
        ).one()
        done = sa.select(LessonProgress.lesson_id).where(
            LessonProgress.enrollment_id == enrollment.id,
            LessonProgress.completed_at.is_not(None),
        )
        slug = db.session.scalar(
            sa.select(Lesson.slug)
            .where(
                Lesson.version_id == enrollment.version_id,
                (Lesson.kind == "quiz") if quiz else (Lesson.kind != "quiz"),
                Lesson.id.not_in(done),
            )
            .order_by(Lesson.position)
            .limit(1)
        )
        return enrollment.id, slug
