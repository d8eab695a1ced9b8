"""Seats gate learning: progress is written only while holding a seat in the enrollment's
organization; what was learned stays readable after the seat is gone (issue 8, item 2)."""

from types import SimpleNamespace

import pytest

from lms.courses import services as course_services
from tests.accounts.test_api import assert_error_shape
from tests.accounts.test_views import csrf_from, login_page
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import (
    DEFAULT_PASSWORD,
    MemberFactory,
    OrganizationFactory,
    SeatGrantFactory,
)
from tests.memberships.test_api import token_from
from tests.progress.conftest import RIGHT, attempt, progress

SEATLESS = (
    "You no longer hold a seat at One Seat OSPO: your progress so far is kept and readable; "
    "ask your OSPO admins for a seat to continue."
)


@pytest.fixture
def one_seat(db):
    organization = OrganizationFactory(slug="one-seat", name="One Seat OSPO")
    SeatGrantFactory(organization=organization, seats=1)
    return organization


@pytest.fixture
def owner_client(app, one_seat):
    """The organization's first admin (who holds no seat)."""
    owner = MemberFactory(organization=one_seat, role="admin").user
    return log_in(app.test_client(), owner)


def invite_and_accept(app, owner_client, mailbox, email):
    """Invite ``email`` as a learner and accept as a new person; returns (status, client)."""
    invited = owner_client.post("/api/v1/organizations/one-seat/invitations", json={"email": email})
    assert invited.status_code == 201, invited.json
    client = app.test_client()
    accepted = client.post(
        f"/api/v1/invitations/{token_from(mailbox, email)}/accept",
        json={"name": email.split("@")[0], "password": DEFAULT_PASSWORD},
    )
    if accepted.status_code == 200:
        log_in(client, SimpleNamespace(email=email))
        return 200, client, accepted.json["user_id"]
    return accepted.status_code, client, None


def enroll(client):
    response = client.post(
        "/api/v1/enrollments", json={"course": "tiny-course", "organization": "one-seat"}
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def patch_member(owner_client, user_id, **body):
    return owner_client.patch(f"/api/v1/organizations/one-seat/members/{user_id}", json=body)


def can_write(client, enrollment_id, lesson):
    response = progress(client, enrollment_id, lesson)
    if response.status_code == 403:
        assert_error_shape(response, 403)
        assert response.json["message"] == SEATLESS
        return False
    assert response.status_code == 200, response.json
    return True


def test_promotion_removal_and_release_never_let_more_learn_than_there_are_seats(
    app, owner_client, one_seat, course, mailbox
):
    """The reproduction: one seat; A is promoted to admin, B removed, C accepted. Today all
    three completed the course; now one person writes progress, as many as there are seats."""
    _, a, a_id = invite_and_accept(app, owner_client, mailbox, "a@uni.example")
    a_enrollment = enroll(a)
    assert can_write(a, a_enrollment, "hello")

    promoted = patch_member(owner_client, a_id, role="admin")
    assert promoted.status_code == 200
    assert promoted.json["role"] == "admin" and promoted.json["learner_seat"] is True
    assert can_write(a, a_enrollment, "world")  # the promotion took nothing from A

    invited_b = owner_client.post(
        "/api/v1/organizations/one-seat/invitations", json={"email": "b@uni.example"}
    )
    assert_error_shape(invited_b, 409)  # A still holds the only seat

    released = patch_member(owner_client, a_id, learner_seat=False)
    assert released.status_code == 200 and released.json["learner_seat"] is False
    assert not can_write(a, a_enrollment, "more")

    status, b, b_id = invite_and_accept(app, owner_client, mailbox, "b@uni.example")
    assert status == 200
    b_enrollment = enroll(b)
    assert can_write(b, b_enrollment, "hello")
    assert owner_client.delete(f"/api/v1/organizations/one-seat/members/{b_id}").status_code == 204
    assert not can_write(b, b_enrollment, "world")
    assert_error_shape(attempt(b, b_enrollment, RIGHT), 403)

    status, c, _ = invite_and_accept(app, owner_client, mailbox, "c@uni.example")
    assert status == 200
    c_enrollment = enroll(c)
    retake = patch_member(owner_client, a_id, learner_seat=True)
    assert_error_shape(retake, 409)  # C holds the seat now

    writers = [
        who
        for who, client, enrollment_id in (("A", a, a_enrollment), ("B", b, b_enrollment))
        if can_write(client, enrollment_id, "more")
    ]
    assert writers == []
    for lesson in ("hello", "world", "more"):
        assert can_write(c, c_enrollment, lesson)
    assert attempt(c, c_enrollment, RIGHT).status_code == 201
    assert c.get(f"/api/v1/enrollments/{c_enrollment}").json["status"] == "completed"

    # What A and B learned stays readable.
    a_detail = a.get(f"/api/v1/enrollments/{a_enrollment}")
    assert a_detail.status_code == 200 and a_detail.json["percent_complete"] > 0
    b_detail = b.get(f"/api/v1/enrollments/{b_enrollment}")
    assert b_detail.status_code == 200
    assert {lesson["slug"]: lesson["status"] for lesson in b_detail.json["lessons"]}[
        "hello"
    ] == "completed"
    assert [e["id"] for e in b.get("/api/v1/enrollments").json] == [b_enrollment]
    assert b.get("/api/v1/courses/tiny-course/lessons/world").status_code == 200


def test_every_progress_write_needs_the_seat_reads_do_not(
    app, org, learner, learner_client, enrollment, tmp_path
):
    assert progress(learner_client, enrollment["id"], "hello").status_code == 200
    admin = MemberFactory(organization=org, role="admin").user
    staff = log_in(app.test_client(), admin)
    assert staff.delete(f"/api/v1/organizations/ospo/members/{learner.id}").status_code == 204

    for response in (
        progress(learner_client, enrollment["id"], "world"),
        progress(learner_client, enrollment["id"], "world", status="viewed"),
        attempt(learner_client, enrollment["id"], RIGHT),
        learner_client.post(f"/api/v1/enrollments/{enrollment['id']}/upgrade"),
    ):
        assert_error_shape(response, 403)
        assert "no longer hold a seat" in response.json["message"]
        assert "progress so far is kept and readable" in response.json["message"]
    detail = learner_client.get(f"/api/v1/enrollments/{enrollment['id']}")
    assert detail.status_code == 200 and detail.json["percent_complete"] > 0
    assert learner_client.get("/api/v1/enrollments").status_code == 200
    # So does enrolling in another course; enrolling again in this one is a read.
    course_services.import_course_folder(
        make_course(tmp_path / "other", slug="other-course"), publish=True
    )
    assert_error_shape(
        learner_client.post("/api/v1/enrollments", json={"course": "other-course"}), 403
    )
    again = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert again.status_code == 200 and again.json["id"] == enrollment["id"]


def test_a_seat_in_another_organization_does_not_write_this_enrollment(
    app, org, learner, learner_client, enrollment
):
    other = OrganizationFactory(slug="other")
    SeatGrantFactory(organization=other, seats=1)
    MemberFactory(organization=other, user=learner, role="learner")
    admin = MemberFactory(organization=org, role="admin").user
    staff = log_in(app.test_client(), admin)
    staff.delete(f"/api/v1/organizations/ospo/members/{learner.id}")
    assert_error_shape(progress(learner_client, enrollment["id"], "hello"), 403)


def test_enrolling_needs_a_held_seat_not_the_learner_role(app, one_seat, course):
    admin = MemberFactory(organization=one_seat, role="admin").user
    second = MemberFactory(organization=one_seat, role="admin").user
    client = log_in(app.test_client(), admin)
    refused = client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert_error_shape(refused, 403)

    assert patch_member(client, admin.id, learner_seat=True).json["learner_seat"] is True
    enrollment_id = enroll(client)
    assert can_write(client, enrollment_id, "hello")
    # Demoted to learner, the admin keeps the seat they hold: no second seat is needed.
    staff = log_in(app.test_client(), second)
    demoted = patch_member(staff, admin.id, role="learner")
    assert demoted.status_code == 200 and demoted.json["learner_seat"] is True
    assert can_write(client, enrollment_id, "world")


def test_refusing_a_write_costs_no_extra_statement_on_the_way_in(
    app, org, learner, learner_client, enrollment, count_queries
):
    admin = MemberFactory(organization=org, role="admin").user
    log_in(app.test_client(), admin).delete(f"/api/v1/organizations/ospo/members/{learner.id}")
    with count_queries() as statements:
        assert progress(learner_client, enrollment["id"], "hello").status_code == 403
    # The token user, enrollment + lesson + seat, and the organization's name for the message.
    assert len(statements) <= 3, statements


# -- the pages ---------------------------------------------------------------------------


def test_lesson_pages_say_why_instead_of_failing(app, client, org, learner, course, db):
    login_page(client, learner)
    enrolled = client.post(
        "/courses/tiny-course/enroll",
        data={"csrf_token": csrf_from(client.get("/courses/tiny-course"))},
    )
    first = enrolled.headers["Location"]
    enrollment_id = first.split("/")[2]
    admin = MemberFactory(organization=org, role="admin").user
    log_in(app.test_client(), admin).delete(f"/api/v1/organizations/ospo/members/{learner.id}")

    lesson = client.get(f"/learn/{enrollment_id}/world")
    html = " ".join(lesson.get_data(as_text=True).split())
    assert lesson.status_code == 200
    assert "You no longer hold a seat at" in html and "Mark as complete" not in html
    assert "World" in html  # the lesson itself stays readable

    token = csrf_from(client.get(first))
    done = client.post(f"{first}/complete", data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == first
    after = " ".join(client.get(first).get_data(as_text=True).split())
    assert after.count("You no longer hold a seat at") == 1
    assert "Completed on" not in after

    quiz = f"/learn/{enrollment_id}/check-basics"
    graded = client.post(f"{quiz}/attempt", data={"csrf_token": token, "q1": "a", "q2": ["a", "b"]})
    page = " ".join(graded.get_data(as_text=True).split())
    assert graded.status_code == 403
    assert page.count("You no longer hold a seat at") == 1 and "Submit answers" not in page
    assert "Passed" not in page
