"""Enrollments, progress, quizzes and completion through the API, with the bad input listed."""

import pytest
import sqlalchemy as sa

from lms.progress import signals
from lms.progress.models import Enrollment, LessonProgress, QuizAttempt
from tests.accounts.test_api import assert_error_shape
from tests.conftest import log_in
from tests.factories import MemberFactory, UserFactory
from tests.progress.conftest import (
    DASHBOARD,
    HALF,
    LOGGED_IN_USER,
    MARK_COMPLETE,
    RIGHT,
    attempt,
    progress,
)


def test_enroll_pins_the_version_and_starts_at_the_first_lesson(learner_client, course, org):
    response = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert response.status_code == 201
    body = response.json
    assert body["version"] == "1.0.0" and body["percent_complete"] == 0
    assert body["next_lesson"] == {"slug": "hello", "title": "Hello"}
    assert body["required_total"] == 3  # "world" is optional


def test_enrolling_twice_returns_the_same_enrollment(learner_client, enrollment, db):
    again = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert again.status_code == 200 and again.json["id"] == enrollment["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 1


def test_enrolling_without_a_seat_is_403(client, course, db):
    log_in(client, UserFactory())
    response = client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert "seat" in assert_error_shape(response, 403)["message"]


def test_org_admins_hold_no_seat_and_cannot_enroll(client, course, org):
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    assert_error_shape(client.post("/api/v1/enrollments", json={"course": "tiny-course"}), 403)


def test_enrolling_in_a_draft_or_unknown_course_is_404(learner_client, db, tmp_path):
    from lms.courses import services as course_services
    from tests.courses.builders import make_course

    course_services.import_course_folder(make_course(tmp_path, slug="a-draft"))
    assert_error_shape(learner_client.post("/api/v1/enrollments", json={"course": "a-draft"}), 404)
    assert_error_shape(learner_client.post("/api/v1/enrollments", json={"course": "nope"}), 404)


def test_lapsed_membership_cannot_start_new_enrollments(learner_client, course, org, db):
    from lms.core.db import utcnow
    from lms.memberships.models import SeatGrant

    db.session.execute(sa.update(SeatGrant).values(ends_at=utcnow()))
    response = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert "lapsed" in assert_error_shape(response, 403)["message"]


def test_marking_complete_is_idempotent_and_keeps_the_first_time(learner_client, enrollment, db):
    first = progress(learner_client, enrollment["id"], "hello")
    assert first.status_code == 200 and first.json["changed"] is True
    assert first.json["status"] == "completed"
    second = progress(learner_client, enrollment["id"], "hello")
    assert second.json["changed"] is False
    assert second.json["completed_at"] == first.json["completed_at"]
    viewed_after = progress(learner_client, enrollment["id"], "hello", status="viewed")
    assert viewed_after.json["status"] == "completed"  # a later view does not undo it
    row = learner_client.get("/api/v1/enrollments").json[0]
    assert (row["lessons_done"], row["required_done"], row["percent_complete"]) == (1, 1, 33)
    assert row["next_lesson"]["slug"] == "world"
    stored = db.session.scalar(sa.select(Enrollment.percent_complete))
    assert stored == 33 and isinstance(stored, int)  # a whole number in the database too


def test_time_spent_keeps_the_largest_report(learner_client, enrollment, db):
    progress(learner_client, enrollment["id"], "hello", status="viewed", time_spent_seconds=120)
    progress(learner_client, enrollment["id"], "hello", status="viewed", time_spent_seconds=60)
    stored = db.session.scalar(sa.select(LessonProgress.time_spent_seconds))
    assert stored == 120


def test_progress_for_a_lesson_outside_the_version_is_404(learner_client, enrollment):
    assert_error_shape(progress(learner_client, enrollment["id"], "no-such-lesson"), 404)


def test_progress_on_someone_elses_enrollment_is_404(client, enrollment, org, db):
    other = MemberFactory(organization=org).user
    log_in(client, other)
    assert_error_shape(progress(client, enrollment["id"], "hello"), 404)
    assert_error_shape(client.get(f"/api/v1/enrollments/{enrollment['id']}"), 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 0


def test_bad_progress_body_is_422(learner_client, enrollment):
    response = learner_client.put(
        f"/api/v1/enrollments/{enrollment['id']}/lessons/hello/progress",
        json={"status": "finished", "time_spent_seconds": -5},
    )
    body = assert_error_shape(response, 422)
    assert {"status", "time_spent_seconds"} <= set(body["errors"])


def test_quiz_is_graded_on_the_server_with_explanations(learner_client, enrollment):
    half = attempt(learner_client, enrollment["id"], HALF)
    assert half.status_code == 201
    body = half.json
    assert (body["score"], body["passed"], body["pass_mark"], body["attempts_left"]) == (
        50,
        False,
        70,
        2,
    )
    q2 = next(q for q in body["questions"] if q["id"] == "q2")
    assert q2["correct"] is False and q2["explanation_html"] == "Meetings are not files."
    assert q2["correct_answer"] is None  # not revealed while attempts remain
    full = attempt(learner_client, enrollment["id"], RIGHT).json
    assert (full["score"], full["passed"], full["best_score"]) == (100, True, 100)
    assert next(q for q in full["questions"] if q["id"] == "q2")["correct_answer"] == ["a", "b"]
    worse = attempt(learner_client, enrollment["id"], HALF).json
    assert worse["best_score"] == 100
    row = learner_client.get("/api/v1/enrollments").json[0]
    assert row["quizzes_passed"] == 1


def test_attempts_beyond_the_limit_are_409(learner_client, enrollment, db):
    for _ in range(3):
        assert attempt(learner_client, enrollment["id"], HALF).status_code == 201
    fourth = attempt(learner_client, enrollment["id"], HALF)
    assert "No attempts left" in assert_error_shape(fourth, 409)["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 3


@pytest.mark.parametrize(
    "answers, problem",
    [
        ({"q1": ["a"], "q2": ["a"], "q9": ["a"]}, "q9"),
        ({"q1": ["z"], "q2": ["a"]}, "q1"),
        ({"q1": ["a"]}, "q2"),
        ({"q1": "a", "q2": ["a"]}, "q1"),
        ({"q1": ["a", "b"], "q2": ["a"]}, "q1"),
        (["a", "b"], None),
    ],
)
def test_bad_answers_are_422_and_use_no_attempt(learner_client, enrollment, db, answers, problem):
    body = assert_error_shape(attempt(learner_client, enrollment["id"], answers), 422)
    if problem:
        assert problem in body["errors"]["answers"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizAttempt)) == 0


def test_a_quiz_cannot_be_marked_complete_by_hand(learner_client, enrollment):
    assert_error_shape(progress(learner_client, enrollment["id"], "check-basics"), 422)


def test_completion_happens_once_when_every_required_item_is_done(learner_client, enrollment, db):
    completed = []
    signals.enrollment_completed.connect(completed.append, weak=False)
    try:
        progress(learner_client, enrollment["id"], "hello")
        attempt(learner_client, enrollment["id"], RIGHT)
        last = progress(learner_client, enrollment["id"], "more")
        assert last.json["enrollment_status"] == "completed"
        assert last.json["percent_complete"] == 100
        progress(learner_client, enrollment["id"], "world")  # optional, after completion
        progress(learner_client, enrollment["id"], "more")
    finally:
        signals.enrollment_completed.disconnect(completed.append)
    assert completed == [enrollment["id"]]
    row = learner_client.get("/api/v1/enrollments").json[0]
    assert row["status"] == "completed" and row["completed_at"]


def test_enrollment_detail_lists_every_lesson_state(learner_client, enrollment):
    progress(learner_client, enrollment["id"], "hello")
    attempt(learner_client, enrollment["id"], HALF)
    body = learner_client.get(f"/api/v1/enrollments/{enrollment['id']}").json
    states = {
        lesson["slug"]: (lesson["status"], lesson["best_score"]) for lesson in body["lessons"]
    }
    assert states == {
        "hello": ("completed", None),
        "world": ("not_started", None),
        "check-basics": ("viewed", 50),
        "more": ("not_started", None),
    }


def test_dashboard_makes_two_queries_however_many_enrollments(
    learner_client, course, db, tmp_path, count_queries
):
    from lms.courses import services as course_services
    from tests.courses.builders import make_course

    learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    with count_queries() as one:
        assert len(learner_client.get("/api/v1/enrollments").json) == 1
    for n in range(4):
        course_services.import_course_folder(
            make_course(tmp_path / str(n), slug=f"c-{n}"), publish=True
        )
        learner_client.post("/api/v1/enrollments", json={"course": f"c-{n}"})
    with count_queries() as five:
        assert len(learner_client.get("/api/v1/enrollments").json) == 5
    assert len(one) == len(five) == LOGGED_IN_USER + DASHBOARD == 2


def test_marking_a_lesson_complete_makes_at_most_four_statements(
    learner_client, enrollment, count_queries
):
    with count_queries() as statements:
        assert progress(learner_client, enrollment["id"], "hello").status_code == 200
    assert len(statements) == LOGGED_IN_USER + MARK_COMPLETE == 4, statements


def test_moving_to_a_new_version_keeps_progress_by_slug(
    learner_client, enrollment, db, tmp_path, course
):
    from lms.courses import services as course_services
    from tests.courses.builders import make_course, write

    progress(learner_client, enrollment["id"], "hello")
    folder = make_course(tmp_path / "v2")
    (folder / "course.yaml").write_text(
        (folder / "course.yaml").read_text().replace('"1.0.0"', '"2.0.0"')
    )
    write(folder / "02-next" / "02-brand-new.md", "---\ntitle: New\nminutes: 2\n---\n\nNew.\n")
    course_services.import_course_folder(folder, publish=True)
    listed = learner_client.get("/api/v1/enrollments").json[0]
    assert listed["version"] == "1.0.0" and listed["newer_version"] == "2.0.0"
    moved = learner_client.post(f"/api/v1/enrollments/{enrollment['id']}/upgrade")
    assert moved.status_code == 200
    body = moved.json
    assert body["version"] == "2.0.0" and body["required_total"] == 4 and body["required_done"] == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 2
    )  # old kept


def test_an_invitation_naming_courses_enrolls_on_acceptance(app, org, course, mailbox, db):
    import re

    from tests.factories import MemberFactory

    staff = MemberFactory(organization=org, role="admin").user
    admin_client = log_in(app.test_client(), staff)
    sent = admin_client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": "enrolled@uni.example", "courses": ["tiny-course"]},
    )
    assert sent.status_code == 201
    token = re.search(
        r"/invitations/(\S+)", mailbox.last_to("enrolled@uni.example").get_content()
    ).group(1)
    newcomer = app.test_client()
    accepted = newcomer.post(
        f"/api/v1/invitations/{token}/accept",
        json={"name": "E", "password": "quiet meadow lantern"},
    )
    assert accepted.status_code == 200
    enrollments = newcomer.get("/api/v1/enrollments").json
    assert [e["course"] for e in enrollments] == ["tiny-course"]
