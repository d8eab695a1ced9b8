"""CSV enrollment: a result for every row, dry runs change nothing, every bad input is clear."""

import io

import pytest
import sqlalchemy as sa

from lms.courses import services as course_services
from lms.memberships.models import Invitation
from tests.accounts.test_api import assert_error_shape
from tests.courses.builders import make_course
from tests.factories import MemberFactory, UserFactory


def upload(client, text: str | bytes, dry_run=False, encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return client.post(
        f"/api/v1/organizations/ospo/invitations/import{'?dry_run=true' if dry_run else ''}",
        data={"file": (io.BytesIO(data), "people.csv")},
        content_type="multipart/form-data",
    )


def invitations(db):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))


@pytest.fixture
def course(db, tmp_path):
    return course_services.import_course_folder(make_course(tmp_path), publish=True)


def test_every_row_gets_a_result(org_admin_client, org, course, db, mailbox):
    member = MemberFactory(organization=org, user=UserFactory(email="member@uni.example"))
    org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "pending@uni.example"}
    )
    csv = (
        "email,name,role,courses\n"
        "ada@uni.example,Ada,learner,tiny-course\n"
        f"{member.user.email},Member,learner,\n"
        "pending@uni.example,Pending,learner,\n"
        "not-an-email,Bad,learner,\n"
        "ADA@uni.example,Ada again,learner,\n"
        "bob@uni.example,Bob,teacher,\n"
        "cy@uni.example,Cy,learner,no-such-course\n"
        "dee@uni.example,Dee,admin,\n"
    )
    response = upload(org_admin_client, csv)
    assert response.status_code == 200, response.json
    body = response.json
    by_row = {r["row"]: (r["status"], r["reason"]) for r in body["rows"]}
    assert by_row[2] == ("created", "")
    assert by_row[3] == ("already_member", "")
    assert by_row[4] == ("already_invited", "")
    assert by_row[5][0] == "rejected" and "not a valid email" in by_row[5][1].lower()
    assert by_row[6] == ("rejected", "duplicate of row 2")
    assert by_row[7][0] == "rejected" and "teacher" in by_row[7][1]
    assert by_row[8] == ("rejected", "unknown course: no-such-course")
    assert by_row[9] == ("created", "")
    assert (body["created"], body["rejected"]) == (2, 4)
    assert len(body["rows"]) == 8  # none silently dropped
    stored = db.session.scalars(sa.select(Invitation.email).order_by(Invitation.email)).all()
    assert stored == ["ada@uni.example", "dee@uni.example", "pending@uni.example"]
    assert {m["To"] for m in mailbox.messages} >= {"ada@uni.example", "dee@uni.example"}
    ada = db.session.scalar(sa.select(Invitation).where(Invitation.email == "ada@uni.example"))
    assert ada.courses == ["tiny-course"] and ada.name == "Ada"


def test_dry_run_previews_and_changes_nothing(org_admin_client, org, db, mailbox):
    response = upload(org_admin_client, "email\na@uni.example\nb@uni.example\n", dry_run=True)
    assert response.status_code == 200
    assert response.json["dry_run"] is True and response.json["created"] == 2
    assert invitations(db) == 0 and mailbox.messages == []


def test_rows_beyond_the_free_seats_are_refused_row_by_row(org_admin_client, org, db):
    MemberFactory(organization=org)  # 3 seats, 1 used: 2 free
    csv = (
        "email,role\n"
        "a@uni.example,learner\nb@uni.example,learner\nc@uni.example,learner\nd@uni.example,admin\n"
    )
    body = upload(org_admin_client, csv).json
    statuses = [(r["email"], r["status"], r["reason"]) for r in body["rows"]]
    assert statuses[:2] == [("a@uni.example", "created", ""), ("b@uni.example", "created", "")]
    assert statuses[2][1] == "rejected" and "no free seats" in statuses[2][2]
    assert statuses[3][1] == "created"  # admins take no seat
    assert body["seats_free"] == 2


def test_bom_and_semicolons_are_understood(org_admin_client, org, db):
    csv = "\ufeffEmail;Name;Role\nsemi@uni.example;Semi Colon;learner\n"
    body = upload(org_admin_client, csv).json
    assert body["created"] == 1 and body["rows"][0]["email"] == "semi@uni.example"


def test_a_file_that_is_not_utf8_is_422(org_admin_client, org, db):
    response = upload(org_admin_client, "email,name\nzoë@uni.example,Zoë\n", encoding="latin-1")
    body = assert_error_shape(response, 422)
    assert "UTF-8" in body["message"]
    assert invitations(db) == 0


def test_wrong_headers_are_422(org_admin_client, org, db):
    response = upload(org_admin_client, "mail,fullname\na@uni.example,A\n")
    body = assert_error_shape(response, 422)
    assert "an 'email' column is required" in body["message"]
    assert "unknown columns" in body["message"]
    assert invitations(db) == 0


def test_empty_file_is_422(org_admin_client, org):
    assert_error_shape(upload(org_admin_client, ""), 422)


def test_a_file_over_the_size_limit_is_413(org_admin_client, org, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "INVITATION_CSV_MAX_BYTES", 100)
    response = upload(
        org_admin_client, "email\n" + "".join(f"p{i}@uni.example\n" for i in range(50))
    )
    assert_error_shape(response, 413)
    assert invitations(db) == 0


def test_learners_cannot_upload(client, org, learner, db):
    from tests.conftest import log_in

    log_in(client, learner)
    assert_error_shape(upload(client, "email\na@uni.example\n"), 403)
