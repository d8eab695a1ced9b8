"""Moving an enrollment to a newer published version of its course."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.errors import Conflict
from lms.core.extensions import db
from lms.courses.models import CourseVersion, Lesson, LessonKind
from lms.progress.dashboard import EnrollmentRow, get_enrollment_row, lesson_states
from lms.progress.models import Enrollment, EnrollmentStatus, LessonProgress
from lms.progress.seats import require_seat
from lms.progress.signals import enrollment_completed


def upgrade(user: User, enrollment_id: int) -> EnrollmentRow:
    """Move to the course's published version when it is newer than the enrollment's,
    keeping progress for lessons whose slug is in both. The old progress rows stay where
    they are: nothing is lost. (An older version published again is never a move forward.)
    Returns the enrollment as the dashboard shows it."""
    row = get_enrollment_row(user, enrollment_id)
    require_seat(user, row.organization_id)
    enrollment = db.session.get_one(Enrollment, row.id)
    target = db.session.scalar(
        sa.select(CourseVersion).where(
            CourseVersion.course_id == enrollment.course_id, CourseVersion.is_published
        )
    )
    if target is None or target.number <= row.version_number:
        raise Conflict("You are already on the newest version of this course.")
    if enrollment.status == EnrollmentStatus.COMPLETED:
        raise Conflict("This enrollment is complete; its certificate names the version you took.")
    old = {
        lesson.slug: lesson
        for lesson in db.session.scalars(
            sa.select(Lesson).where(Lesson.version_id == enrollment.version_id)
        )
    }
    progress = lesson_states(enrollment.id)
    new_lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == target.id).order_by(Lesson.position)
    ).all()
    carried = []
    for lesson in new_lessons:
        before = old.get(lesson.slug)
        state = progress.get(before.id) if before else None
        if state is not None:
            carried.append(
                LessonProgress(
                    enrollment_id=enrollment.id,
                    lesson_id=lesson.id,
                    status=state.status,
                    first_viewed_at=state.first_viewed_at,
                    completed_at=state.completed_at,
                    time_spent_seconds=state.time_spent_seconds,
                    best_score=state.best_score,
                )
            )
    db.session.add_all(carried)
    done = {p.lesson_id for p in carried if p.completed_at}
    enrollment.version_id = target.id
    enrollment.required_total = sum(1 for lesson in new_lessons if lesson.is_required)
    enrollment.required_done = sum(
        1 for lesson in new_lessons if lesson.is_required and lesson.id in done
    )
    enrollment.lessons_done = sum(
        1 for lesson in new_lessons if lesson.id in done and lesson.kind == LessonKind.LESSON
    )
    enrollment.quizzes_passed = sum(
        1 for lesson in new_lessons if lesson.id in done and lesson.kind == LessonKind.QUIZ
    )
    enrollment.percent_complete = (
        100
        if not enrollment.required_total
        else enrollment.required_done * 100 // enrollment.required_total
    )
    enrollment.resume_lesson_id = next(
        (lesson.id for lesson in new_lessons if lesson.id not in done), new_lessons[-1].id
    )
    enrollment.last_activity_at = utcnow()
    db.session.flush()
    if enrollment.required_done >= enrollment.required_total:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = utcnow()
        db.session.flush()
        enrollment_completed.send(enrollment.id)
    return get_enrollment_row(user, enrollment_id)
