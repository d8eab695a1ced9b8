"""One commit per request; after-commit work runs only when the commit happened."""

import logging
import re

import sqlalchemy as sa
from flask import flash, redirect

from lms.accounts.models import User
from lms.core.errors import Conflict, NotFound
from lms.core.extensions import csrf
from lms.core.outbox import OutboxItem
from lms.core.transaction import after_commit, recover_from
from lms.courses import services as course_services
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory


def test_after_commit_runs_after_commit(db):
    ran = []
    after_commit(lambda: ran.append("sent"))
    db.session.add(User(email="a@uni.example", name="A"))
    db.session.flush()
    assert ran == []
    db.session.commit()
    assert ran == ["sent"]


def test_after_commit_is_dropped_on_rollback(db):
    ran = []
    after_commit(lambda: ran.append("sent"))
    db.session.rollback()
    db.session.commit()
    assert ran == []


def test_a_failed_request_writes_nothing_and_sends_nothing(client, db, mailbox):
    # Registration with a weak password fails after validation: no user, no mail.
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "new@uni.example", "password": "password", "name": "N"},
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert mailbox.messages == []


# -- after-commit tasks run one by one ---------------------------------------------------


def test_a_failing_after_commit_task_does_not_stop_the_others(db, caplog):
    ran = []

    def broken_task():
        raise ValueError("cannot build the message for secret@uni.example")

    after_commit(lambda: ran.append("first"))
    after_commit(broken_task)
    after_commit(lambda: ran.append("third"))
    db.session.add(User(email="a@uni.example", name="A"))
    with caplog.at_level(logging.ERROR, logger="lms.core.transaction"):
        db.session.commit()
    assert ran == ["first", "third"]
    [record] = [r for r in caplog.records if r.name == "lms.core.transaction"]
    line = record.getMessage()
    assert "broken_task" in line and "ValueError" in line
    assert "secret@uni.example" not in line and record.exc_info is None
    assert db.session.scalar(sa.select(User.email)) == "a@uni.example"


def test_a_mail_that_cannot_be_built_after_the_commit_keeps_the_request_successful(
    app, db, mailbox, caplog
):
    # A subject with a line break cannot be written as a mail header. The invitation is
    # stored all the same, and the answer says so (it used to be an HTML 500, and the retry
    # said "already invited").
    organization = OrganizationFactory(slug="crlf", name="Evil\r\nBcc: all@uni.example")
    SeatGrantFactory(organization=organization, seats=5)
    admin = MemberFactory(organization=organization, role="admin").user
    admin_client = log_in(app.test_client(), admin)
    with caplog.at_level(logging.ERROR, logger="lms.core.outbox"):
        response = admin_client.post(
            "/api/v1/organizations/crlf/invitations", json={"email": "new@uni.example"}
        )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["email"] == "new@uni.example"
    listed = admin_client.get("/api/v1/organizations/crlf/invitations").json
    assert [i["email"] for i in listed] == ["new@uni.example"]
    assert mailbox.messages == []
    # The mail is an outbox row that failed for good, with the reason; nothing else is lost.
    (row,) = db.session.scalars(sa.select(OutboxItem)).all()
    assert row.failed_at is not None and "line break" in row.last_error
    [record] = [r for r in caplog.records if r.name == "lms.core.outbox"]
    assert "cannot be built" in record.getMessage()
    assert "new@uni.example" not in record.getMessage()


# -- a domain error means rollback, even when a page handled it ------------------------


def test_a_page_that_handles_a_domain_error_after_a_flush_commits_nothing(make_app, db):
    other = make_app()

    @other.post("/_test/flush-then-fail")
    @csrf.exempt
    def flush_then_fail():
        # A service that flushed a row before it found the rule it breaks ...
        db.session.add(User(email="half-done@uni.example", name="Half done"))
        db.session.flush()
        try:
            raise Conflict("Something was already there.")
        except Conflict as exc:
            # ... and a page that shows the message and redirects.
            flash(exc.message, "error")
            return redirect("/")

    response = other.test_client().post("/_test/flush-then-fail")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "half-done@uni.example")) is None


def test_a_request_commits_after_a_step_recovered_from_a_domain_error(make_app, db):
    other = make_app()

    @other.post("/api/_test/recover")
    def recover():
        db.session.add(User(email="kept@uni.example", name="Kept"))
        with recover_from(NotFound):
            db.session.add(User(email="undone@uni.example", name="Undone"))
            db.session.flush()
            raise NotFound("No such course.")
        return {"ok": True}, 201

    response = other.test_client().post("/api/_test/recover")
    assert response.status_code == 201
    emails = db.session.scalars(sa.select(User.email).where(User.email.like("%done@%"))).all()
    kept = db.session.scalar(sa.select(User.email).where(User.email == "kept@uni.example"))
    assert (emails, kept) == ([], "kept@uni.example")


def test_accepting_an_invitation_to_an_unpublished_course_still_makes_the_member(
    app, db, tmp_path, mailbox
):
    # enroll_from_invitation skips a course unpublished since the invitation; the acceptance
    # itself commits.
    course_services.import_course_folder(make_course(tmp_path), publish=True)
    organization = OrganizationFactory(slug="ospo")
    SeatGrantFactory(organization=organization, seats=5)
    admin = MemberFactory(organization=organization, role="admin").user
    admin_client = log_in(app.test_client(), admin)
    sent = admin_client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": "late@uni.example", "courses": ["tiny-course"]},
    )
    assert sent.status_code == 201
    course_services.set_published(course_services.get_course_for_admin("tiny-course"), False)
    db.session.flush()
    token = re.search(
        r"/invitations/(\S+)", mailbox.last_to("late@uni.example").get_content()
    ).group(1)
    newcomer = app.test_client()
    accepted = newcomer.post(
        f"/api/v1/invitations/{token}/accept",
        json={"name": "Late", "password": "quiet meadow lantern"},
    )
    assert accepted.status_code == 200, accepted.json
    assert newcomer.get("/api/v1/me").json["email"] == "late@uni.example"
    assert newcomer.get("/api/v1/enrollments").json == []
    members = admin_client.get("/api/v1/organizations/ospo/members").json
    assert "late@uni.example" in {m["email"] for m in members}
