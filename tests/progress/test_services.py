"""Progress rules without HTTP: the typed rows learners read."""

from dataclasses import fields

from lms.progress import dashboard, enrolling
from lms.progress.dashboard import EnrollmentDetail, EnrollmentRow
from lms.progress.lesson_progress import mark_lesson
from lms.progress.models import Enrollment


def test_dashboard_and_single_reads_give_the_same_typed_row(learner, course, db):
    enrollment, _ = enrolling.enroll(learner, "tiny-course")
    mark_lesson(learner, enrollment.id, "hello", "completed")
    (listed,) = dashboard.my_enrollments(learner)
    single = dashboard.get_enrollment_row(learner, enrollment.id)
    # One row type on both paths (the list was a SimpleNamespace inside, the single read an
    # ORM object), with every field named after a labelled column.
    assert type(listed) is type(single) is EnrollmentRow
    assert listed == single
    stored = db.session.get(Enrollment, enrollment.id, populate_existing=True)
    for name in ("id", "organization_id", "version_id", "status", "percent_complete",
                 "lessons_done", "required_done", "required_total", "started_at"):  # fmt: skip
        assert getattr(single, name) == getattr(stored, name), name
    assert (single.course_slug, single.version, single.resume_slug) == (
        "tiny-course",
        "1.0.0",
        "world",
    )
    assert single.next_lesson == {"slug": "world", "title": "World"}


def test_the_detail_is_the_row_with_its_lessons(learner, course, db):
    enrollment, _ = enrolling.enroll(learner, "tiny-course")
    detail = dashboard.enrollment_detail(learner, enrollment.id)
    assert isinstance(detail, EnrollmentDetail)
    row = dashboard.get_enrollment_row(learner, enrollment.id)
    assert all(getattr(detail, f.name) == getattr(row, f.name) for f in fields(EnrollmentRow))
    assert [lesson["slug"] for lesson in detail.lessons] == [
        "hello",
        "world",
        "check-basics",
        "more",
    ]
