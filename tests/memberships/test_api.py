"""Memberships API: organizations, seats, members, invitations, and every bad input listed."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.core.db import utcnow
from lms.memberships import services
from lms.memberships.models import Invitation, Organization, OrganizationMember, SeatGrant
from tests.accounts.test_api import assert_error_shape
from tests.conftest import log_in
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory
from tests.memberships.conftest import fill_seats

GOOD_PASSWORD = "river stone lantern"


def count(db, model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def token_from(mailbox, email):
    body = mailbox.last_to(email).get_content()
    return re.search(r"/invitations/(\S+)", body).group(1)


# -- organizations ----------------------------------------------------------------------


def test_platform_admin_creates_and_edits_organizations(admin_client, db):
    created = admin_client.post(
        "/api/v1/organizations",
        json={
            "slug": "tu-x",
            "name": "TU X OSPO",
            "kind": "university_ospo",
            "country": "NL",
            "website": "https://ospo.tu-x.example",
            "contact_email": "ospo@tu-x.example",
        },
    )
    assert created.status_code == 201, created.json
    assert created.json["slug"] == "tu-x"
    patched = admin_client.patch("/api/v1/organizations/tu-x", json={"name": "TU X Open Source"})
    assert patched.status_code == 200 and patched.json["name"] == "TU X Open Source"
    duplicate = admin_client.post("/api/v1/organizations", json={"slug": "tu-x", "name": "Again"})
    assert_error_shape(duplicate, 409)


def test_organization_input_is_validated(admin_client, db):
    response = admin_client.post(
        "/api/v1/organizations",
        json={"slug": "Bad Slug", "name": "", "kind": "club", "country": "Germany"},
    )
    body = assert_error_shape(response, 422)
    assert {"slug", "name", "kind", "country"} <= set(body["errors"])


def test_a_website_or_contact_email_longer_than_its_column_is_422(admin_client, db):
    # PostgreSQL refused the row (a 500); the schema now says what the column holds.
    too_long = {
        "website": "https://ospo.example/" + "x" * 300,
        "contact_email": "o" * 250 + "@ospo.example",
    }
    for field, value in too_long.items():
        response = admin_client.post(
            "/api/v1/organizations", json={"slug": "long", "name": "Long", field: value}
        )
        assert field in assert_error_shape(response, 422)["errors"]
    admin_client.post("/api/v1/organizations", json={"slug": "long", "name": "Long"})
    for field, value in too_long.items():
        response = admin_client.patch("/api/v1/organizations/long", json={field: value})
        assert field in assert_error_shape(response, 422)["errors"]


def test_only_platform_admins_create_organizations(user_client, db):
    response = user_client.post("/api/v1/organizations", json={"slug": "mine", "name": "Mine"})
    assert_error_shape(response, 403)
    assert count(db, Organization) == 0


def test_members_see_their_organizations_others_get_404(client, org, learner, outsider):
    log_in(client, learner)
    assert [o["slug"] for o in client.get("/api/v1/organizations").json] == ["ospo"]
    assert client.get("/api/v1/organizations/ospo").status_code == 200
    log_in(client, outsider)
    assert client.get("/api/v1/organizations").json == []
    assert_error_shape(client.get("/api/v1/organizations/ospo"), 404)


# -- membership and grants --------------------------------------------------------------


def test_membership_shows_seats_grants_term_and_status(org_admin_client, org):
    fill_seats(org, 2)
    body = org_admin_client.get("/api/v1/organizations/ospo/membership").json
    assert (body["seats_total"], body["seats_used"], body["seats_free"]) == (3, 2, 1)
    assert body["status"] == "active" and body["over_capacity"] is False
    assert len(body["grants"]) == 1 and body["term_ends_at"]


def test_platform_admin_records_a_manual_grant(admin_client, org, db):
    start = utcnow().replace(microsecond=0)
    response = admin_client.post(
        "/api/v1/organizations/ospo/seat-grants",
        json={
            "seats": 25,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=365)).isoformat(),
            "note": "Invoice 2026-17",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["source"] == "manual" and response.json["seats"] == 25
    ledger = admin_client.get("/api/v1/organizations/ospo/seat-grants/ledger").json
    assert ledger[0]["action"] == "created" and ledger[0]["reason"] == "Invoice 2026-17"
    assert ledger[0]["actor"] is not None


@pytest.mark.parametrize(
    "payload, field",
    [
        (
            {"seats": 5, "starts_at": "2026-02-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"},
            "ends_at",
        ),
        (
            {"seats": -3, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"},
            "seats",
        ),
        (
            {"seats": 0, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"},
            "seats",
        ),
    ],
)
def test_bad_grants_are_422_and_nothing_is_stored(admin_client, org, db, payload, field):
    before = count(db, SeatGrant)
    body = assert_error_shape(
        admin_client.post("/api/v1/organizations/ospo/seat-grants", json=payload), 422
    )
    assert field in body["errors"]
    assert count(db, SeatGrant) == before


def test_org_admins_cannot_record_grants(org_admin_client, org, db):
    response = org_admin_client.post(
        "/api/v1/organizations/ospo/seat-grants",
        json={"seats": 100, "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
    )
    assert_error_shape(response, 403)


# -- members ----------------------------------------------------------------------------


def test_members_list_with_search(org_admin_client, org):
    MemberFactory(
        organization=org, user=UserFactory(name="Rosalind Franklin", email="rf@uni.example")
    )
    fill_seats(org, 1)
    everyone = org_admin_client.get("/api/v1/organizations/ospo/members").json
    assert len(everyone) == 3
    found = org_admin_client.get("/api/v1/organizations/ospo/members?search=rosalind").json
    assert [m["email"] for m in found] == ["rf@uni.example"]
    admins = org_admin_client.get("/api/v1/organizations/ospo/members?role=admin").json
    assert len(admins) == 1


def test_members_list_makes_a_constant_number_of_queries(org_admin_client, org, count_queries):
    fill_seats(org, 1)
    with count_queries() as few:
        org_admin_client.get("/api/v1/organizations/ospo/members")
    SeatGrantFactory(organization=org, seats=50)
    fill_seats(org, 30)
    with count_queries() as many:
        assert (
            len(org_admin_client.get("/api/v1/organizations/ospo/members?page_size=50").json) == 32
        )
    assert len(few) == len(many)


def test_remove_a_learner_frees_the_seat(org_admin_client, org, learner, db):
    assert (
        org_admin_client.delete(f"/api/v1/organizations/ospo/members/{learner.id}").status_code
        == 204
    )
    body = org_admin_client.get("/api/v1/organizations/ospo/membership").json
    assert body["seats_used"] == 0
    removed = org_admin_client.get("/api/v1/organizations/ospo/members?status=removed").json
    assert [m["user_id"] for m in removed] == [learner.id]


def test_the_last_admin_cannot_be_removed(org_admin_client, org_admin):
    response = org_admin_client.delete(f"/api/v1/organizations/ospo/members/{org_admin.id}")
    body = assert_error_shape(response, 409)
    assert "last admin" in body["message"]


def test_admin_of_another_organization_gets_404_and_changes_nothing(client, org, learner, db):
    other = OrganizationFactory(slug="other-ospo")
    other_admin = MemberFactory(organization=other, role="admin").user
    log_in(client, other_admin)
    assert_error_shape(client.get("/api/v1/organizations/ospo/members"), 404)
    assert_error_shape(client.delete(f"/api/v1/organizations/ospo/members/{learner.id}"), 404)
    assert_error_shape(
        client.post("/api/v1/organizations/ospo/invitations", json={"email": "x@uni.example"}), 404
    )
    assert (
        count(
            db,
            OrganizationMember,
            OrganizationMember.status == "active",
            OrganizationMember.organization_id == org.id,
        )
        == 1
    )
    assert count(db, Invitation) == 0


def test_a_learner_calling_admin_endpoints_gets_403(client, org, learner):
    log_in(client, learner)
    assert_error_shape(client.get("/api/v1/organizations/ospo/members"), 403)
    assert_error_shape(client.get("/api/v1/organizations/ospo/membership"), 403)
    assert_error_shape(
        client.post("/api/v1/organizations/ospo/invitations", json={"email": "x@uni.example"}), 403
    )


def test_changing_a_role_respects_seats(org_admin_client, org):
    learners = fill_seats(org, 3)
    second_admin = MemberFactory(organization=org, role="admin")
    promote = org_admin_client.patch(
        f"/api/v1/organizations/ospo/members/{learners[0].user_id}", json={"role": "admin"}
    )
    assert promote.status_code == 200 and promote.json["role"] == "admin"
    assert promote.json["learner_seat"] is True  # promotion keeps the seat: nothing frees
    assert org_admin_client.get("/api/v1/organizations/ospo/membership").json["seats_free"] == 0
    demote = org_admin_client.patch(
        f"/api/v1/organizations/ospo/members/{second_admin.user_id}", json={"role": "learner"}
    )
    assert_error_shape(demote, 409)


def member_patch(client, member, body):
    return client.patch(f"/api/v1/organizations/ospo/members/{member.user_id}", json=body)


def test_an_admin_takes_and_releases_a_learner_seat(org_admin_client, org, org_admin):
    me = services.get_member(org, org_admin.id)
    listed = org_admin_client.get("/api/v1/organizations/ospo/members").json
    assert [m["learner_seat"] for m in listed] == [False]

    taken = member_patch(org_admin_client, me, {"learner_seat": True})
    assert taken.status_code == 200 and taken.json["learner_seat"] is True
    assert taken.json["role"] == "admin"
    membership = org_admin_client.get("/api/v1/organizations/ospo/membership").json
    assert (membership["seats_used"], membership["seats_free"]) == (1, 2)
    again = member_patch(org_admin_client, me, {"learner_seat": True})
    assert again.status_code == 200  # already held: nothing changes

    released = member_patch(org_admin_client, me, {"learner_seat": False})
    assert released.status_code == 200 and released.json["learner_seat"] is False
    assert org_admin_client.get("/api/v1/organizations/ospo/membership").json["seats_used"] == 0


def test_taking_a_seat_when_none_is_free_is_409(org_admin_client, org, org_admin):
    fill_seats(org, 3)
    me = services.get_member(org, org_admin.id)
    full = member_patch(org_admin_client, me, {"learner_seat": True})
    assert_error_shape(full, 409)
    assert "No free seats" in full.json["message"]
    assert org_admin_client.get("/api/v1/organizations/ospo/membership").json["seats_used"] == 3


def test_a_learner_seat_is_released_only_by_removal(org_admin_client, org, learner):
    member = services.get_member(org, learner.id)
    refused = member_patch(org_admin_client, member, {"learner_seat": False})
    assert_error_shape(refused, 422)
    assert "learner_seat" in refused.json["errors"]
    assert_error_shape(member_patch(org_admin_client, member, {}), 422)
    assert_error_shape(member_patch(org_admin_client, member, {"learner_seat": "maybe"}), 422)
    assert (
        org_admin_client.delete(f"/api/v1/organizations/ospo/members/{learner.id}").status_code
        == 204
    )
    removed = org_admin_client.get("/api/v1/organizations/ospo/members?status=removed").json
    assert [(m["user_id"], m["learner_seat"]) for m in removed] == [(learner.id, False)]


def test_the_members_page_has_a_seat_button_for_admins(client, org, org_admin, learner):
    from tests.accounts.test_views import csrf_from, login_page

    login_page(client, org_admin)
    page = client.get("/organizations/ospo")
    html = " ".join(page.get_data(as_text=True).split())
    assert html.count("Take a learner seat") == 1  # the admin's row; learners hold theirs
    taken = client.post(
        f"/organizations/ospo/members/{org_admin.id}/seat",
        data={"csrf_token": csrf_from(page), "learner_seat": "true"},
    )
    assert taken.status_code == 302
    after = " ".join(client.get("/organizations/ospo").get_data(as_text=True).split())
    assert "holds a learner seat and can learn" in after and "Release learner seat" in after
    assert "<strong>2</strong> of 3 seats used" in after
    released = client.post(
        f"/organizations/ospo/members/{org_admin.id}/seat",
        data={"csrf_token": csrf_from(client.get("/organizations/ospo")), "learner_seat": "false"},
    )
    assert released.status_code == 302
    assert "<strong>1</strong> of 3 seats used" in " ".join(
        client.get("/organizations/ospo").get_data(as_text=True).split()
    )


# -- invitations ------------------------------------------------------------------------


def test_invite_mail_accept_as_a_new_person(org_admin_client, org, mailbox, db, app):
    response = org_admin_client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": "New.Person@Uni.Example", "role": "learner", "name": "New Person"},
    )
    assert response.status_code == 201, response.json
    assert (
        response.json["status"] == "pending" and response.json["email"] == "new.person@uni.example"
    )
    stored = db.session.scalar(sa.select(Invitation))
    token = token_from(mailbox, "new.person@uni.example")
    assert stored.token_hash != token and token not in stored.token_hash

    newcomer = app.test_client()
    accepted = newcomer.post(
        f"/api/v1/invitations/{token}/accept",
        json={"name": "New Person", "password": GOOD_PASSWORD},
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["created_account"] is True and accepted.json["organization"] == "ospo"
    assert newcomer.get("/api/v1/me").json["email"] == "new.person@uni.example"
    membership = org_admin_client.get("/api/v1/organizations/ospo/membership").json
    assert membership["seats_used"] == 1


def test_pending_invitation_takes_no_seat(org_admin_client, org):
    org_admin_client.post("/api/v1/organizations/ospo/invitations", json={"email": "p@uni.example"})
    assert org_admin_client.get("/api/v1/organizations/ospo/membership").json["seats_used"] == 0


def test_existing_user_accepts_after_login(org_admin_client, org, mailbox, app):
    person = UserFactory(email="known@uni.example")
    org_admin_client.post("/api/v1/organizations/ospo/invitations", json={"email": person.email})
    token = token_from(mailbox, person.email)
    anonymous = app.test_client()
    not_logged_in = anonymous.post(
        f"/api/v1/invitations/{token}/accept", json={"name": "X", "password": GOOD_PASSWORD}
    )
    body = assert_error_shape(not_logged_in, 409)
    assert "log in" in body["message"]
    log_in(anonymous, person)
    accepted = anonymous.post(f"/api/v1/invitations/{token}/accept", json={})
    assert accepted.status_code == 200 and accepted.json["created_account"] is False


def test_accepting_someone_elses_invitation_is_refused(
    org_admin_client, org, mailbox, app, outsider
):
    org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "right@uni.example"}
    )
    token = token_from(mailbox, "right@uni.example")
    wrong = log_in(app.test_client(), outsider)
    body = assert_error_shape(wrong.post(f"/api/v1/invitations/{token}/accept", json={}), 403)
    assert "right@uni.example" in body["message"]


def test_accepting_when_full_is_409_no_free_seats(org_admin_client, org, mailbox, app, db):
    org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "late@uni.example"}
    )
    token = token_from(mailbox, "late@uni.example")
    fill_seats(org, 3)
    response = app.test_client().post(
        f"/api/v1/invitations/{token}/accept", json={"name": "Late", "password": GOOD_PASSWORD}
    )
    body = assert_error_shape(response, 409)
    assert "No free seats" in body["message"]
    assert db.session.scalar(sa.select(Invitation.status)) == "pending"
    from lms.accounts.models import User

    assert count(db, User, User.email == "late@uni.example") == 0  # no half-made account


def test_used_revoked_expired_and_forged_tokens(org_admin_client, org, mailbox, app, db):
    for email in ("used@uni.example", "revoked@uni.example", "expired@uni.example"):
        org_admin_client.post("/api/v1/organizations/ospo/invitations", json={"email": email})
    used, revoked, expired = (
        token_from(mailbox, e)
        for e in ("used@uni.example", "revoked@uni.example", "expired@uni.example")
    )
    anonymous = app.test_client()
    first = anonymous.post(
        f"/api/v1/invitations/{used}/accept", json={"name": "U", "password": GOOD_PASSWORD}
    )
    assert first.status_code == 200
    other = app.test_client()
    again = other.post(
        f"/api/v1/invitations/{used}/accept", json={"name": "U", "password": GOOD_PASSWORD}
    )
    assert "already been used" in assert_error_shape(again, 410)["message"]

    code = db.session.scalar(
        sa.select(Invitation.code).where(Invitation.email == "revoked@uni.example")
    )
    assert (
        org_admin_client.delete(f"/api/v1/organizations/ospo/invitations/{code}").status_code == 204
    )
    response = other.post(
        f"/api/v1/invitations/{revoked}/accept", json={"name": "R", "password": GOOD_PASSWORD}
    )
    assert "withdrawn" in assert_error_shape(response, 410)["message"]

    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.email == "expired@uni.example")
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    response = other.post(
        f"/api/v1/invitations/{expired}/accept", json={"name": "E", "password": GOOD_PASSWORD}
    )
    assert "expired" in assert_error_shape(response, 410)["message"]

    forged = other.post(
        "/api/v1/invitations/not-a-real-token/accept", json={"name": "F", "password": GOOD_PASSWORD}
    )
    assert_error_shape(forged, 404)
    assert count(db, OrganizationMember, OrganizationMember.organization_id == org.id) == 2


def test_inviting_twice_or_inviting_a_member_is_409(org_admin_client, org, learner):
    org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "twice@uni.example"}
    )
    again = org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": "TWICE@uni.example"}
    )
    assert "already invited" in assert_error_shape(again, 409)["message"]
    member = org_admin_client.post(
        "/api/v1/organizations/ospo/invitations", json={"email": learner.email}
    )
    assert "already a member" in assert_error_shape(member, 409)["message"]


def test_invitation_with_unknown_course_is_422(org_admin_client, org):
    response = org_admin_client.post(
        "/api/v1/organizations/ospo/invitations",
        json={"email": "c@uni.example", "courses": ["no-such-course"]},
    )
    assert "no-such-course" in assert_error_shape(response, 422)["message"]


def test_list_and_revoke_invitations(org_admin_client, org):
    org_admin_client.post("/api/v1/organizations/ospo/invitations", json={"email": "a@uni.example"})
    listed = org_admin_client.get("/api/v1/organizations/ospo/invitations").json
    assert [i["email"] for i in listed] == ["a@uni.example"]
    assert (
        org_admin_client.delete(
            f"/api/v1/organizations/ospo/invitations/{listed[0]['id']}"
        ).status_code
        == 204
    )
    assert org_admin_client.get("/api/v1/organizations/ospo/invitations").json == []
    revoked = org_admin_client.get("/api/v1/organizations/ospo/invitations?status=revoked").json
    assert len(revoked) == 1


def test_patch_changes_only_the_fields_it_names(admin_client, db):
    admin_client.post(
        "/api/v1/organizations",
        json={
            "slug": "keep",
            "name": "Keep",
            "kind": "research_institute",
            "country": "FR",
            "website": "https://keep.example",
            "contact_email": "k@keep.example",
        },
    )
    patched = admin_client.patch("/api/v1/organizations/keep", json={"name": "Kept"}).json
    assert patched["name"] == "Kept"
    assert (patched["kind"], patched["country"], patched["website"], patched["contact_email"]) == (
        "research_institute",
        "FR",
        "https://keep.example",
        "k@keep.example",
    )
    assert_error_shape(admin_client.patch("/api/v1/organizations/keep", json={"slug": "x"}), 422)
