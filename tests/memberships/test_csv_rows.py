"""Each CSV row is checked by the single invitation's own rules: a bad row is rejected with
its reason, the others go through, and no value ever reaches the database unchecked (a 300
character email was a 500 for the whole file on PostgreSQL)."""

import csv
import io

import pytest
import sqlalchemy as sa

from lms.memberships.models import Invitation
from tests.memberships.test_csv import upload

LONG_EMAIL = "a" * 290 + "@uni.example"  # 302 characters; the column holds 254

BAD_ROWS = [
    # (email, name, role, courses), what the reason names
    ((LONG_EMAIL, "Long", "learner", ""), "email"),
    (("not-an-email", "Bad", "learner", ""), "email"),
    (("", "No Email", "learner", ""), "email"),
    (("named@uni.example", "N" * 201, "learner", ""), "name"),
    (("role@uni.example", "Role", "teacher", ""), "role"),
    (("slug@uni.example", "Slug", "learner", "Not_A_Slug"), "courses"),
]


def csv_text(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["email", "name", "role", "courses"])
    writer.writerows(rows)
    return buffer.getvalue()


def single_invitation(client, email, name, role, courses):
    return client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": email, "name": name, "role": role, "courses": courses.split()},
    )


@pytest.mark.parametrize(("row", "field"), BAD_ROWS)
def test_a_bad_row_is_rejected_with_its_reason_and_the_rest_go_through(
    org_admin_client, org, db, row, field
):
    rows = [("first@uni.example", "First", "learner", ""), row, ("last@uni.example", "", "", "")]
    response = upload(org_admin_client, csv_text(rows))
    assert response.status_code == 200, response.json
    first, bad, last = response.json["rows"]
    assert (first["status"], last["status"]) == ("created", "created")
    assert bad["status"] == "rejected" and bad["row"] == 3
    assert bad["reason"].startswith(field), bad["reason"]
    stored = db.session.scalars(sa.select(Invitation.email).order_by(Invitation.email)).all()
    assert stored == ["first@uni.example", "last@uni.example"]
    # The single invitation refuses the same values.
    assert single_invitation(org_admin_client, *row).status_code == 422


def test_a_dry_run_rejects_the_same_rows(org_admin_client, org, db):
    response = upload(org_admin_client, csv_text([row for row, _ in BAD_ROWS]), dry_run=True)
    assert response.status_code == 200, response.json
    assert response.json["rejected"] == len(BAD_ROWS)


@pytest.mark.parametrize(
    "row",
    [
        ("bell@uni.example", "Bell \x07 Ringer", "learner", ""),
        ("tab@uni.example", "Tab\tName", "admin", ""),
        ("ok@uni.example", "Zoë Ørsted", "ADMIN", ""),
    ],
)
def test_rows_and_single_invitations_follow_the_same_rules(org_admin_client, org, db, row):
    """Whatever the invitation schema decides about a value, a CSV row decides the same."""
    email, name, role, courses = row
    in_csv = upload(org_admin_client, csv_text([row]), dry_run=True)
    assert in_csv.status_code == 200, in_csv.json
    single = single_invitation(org_admin_client, email, name, role.lower(), courses)
    assert single.status_code in (201, 422), single.json
    csv_status = in_csv.json["rows"][0]["status"]
    assert (csv_status == "created") == (single.status_code == 201), (in_csv.json, single.json)
