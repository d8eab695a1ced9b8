"""One seeded world of personas and their objects, for the fuzzing and authorization tests.

Two organizations (A and B) and two sponsors (S and T); every path parameter the tests fill
names an object of organization A or sponsor S. The world is built once per test module inside
a connection whose outer transaction is rolled back at the end; each test (or request) runs in
a savepoint of its own (``world.isolated()``), so a write never leaks into the next one.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from lms.accounts import services as account_services
from lms.certificates.models import Certificate
from lms.core.db import utcnow
from lms.core.extensions import db as _db
from lms.core.extensions import limiter
from lms.core.tokens import hash_secret, new_secret
from lms.courses import services as course_services
from lms.memberships.invitations import new_invitation
from lms.sponsorships import services as sponsor_services
from lms.sponsorships.models import SponsorInvitation
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory
from tests.progress.conftest import RIGHT

PERSONAS = ("anonymous", "learner_a", "admin_a", "admin_b", "sponsor_s", "sponsor_t", "platform")


@dataclass
class World:
    app: object
    connection: object
    users: dict = field(default_factory=dict, repr=False)  # persona -> User (detached later)
    bearer: dict = field(default_factory=dict)  # persona -> raw API token
    session_cookie: dict = field(default_factory=dict)  # persona -> (cookie, CSRF token)
    ids: dict = field(default_factory=dict)  # path parameter values of A's and S's objects

    @contextmanager
    def isolated(self):
        """Everything inside is undone afterwards (a savepoint on the world's connection)."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                savepoint.rollback()
            with self.app.app_context():
                _db.session.remove()
            limiter.reset()

    def headers(self, persona: str) -> dict:
        token = self.bearer.get(persona)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def client(self, persona: str):
        """A fresh test client with the persona's browser session (and CSRF header)."""
        client = self.app.test_client()
        if persona in self.session_cookie:
            cookie, csrf_token = self.session_cookie[persona]
            client.set_cookie("lms_session", cookie)
            client.csrf_token = csrf_token
        return client


def _complete_tiny_course(client, organization: str) -> int:
    response = client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert response.status_code == 201, response.json
    enrollment_id = response.json["id"]
    base = f"/api/v1/enrollments/{enrollment_id}/lessons"
    assert client.put(f"{base}/hello/progress", json={"status": "completed"}).status_code == 200
    assert client.post(f"{base}/check-basics/attempts", json={"answers": RIGHT}).status_code == 201
    assert client.put(f"{base}/more/progress", json={"status": "completed"}).status_code == 200
    return enrollment_id


def seed(world: World, folder: Path) -> None:
    """Organizations A and B, sponsors S and T, a person for each persona, and objects."""
    course_services.import_course_folder(make_course(folder), publish=True)
    org_a = OrganizationFactory(slug="org-a", name="Organization A")
    org_b = OrganizationFactory(slug="org-b", name="Organization B")
    grant_a = SeatGrantFactory(organization=org_a, seats=10)
    SeatGrantFactory(organization=org_b, seats=10)
    users = world.users
    users["learner_a"] = MemberFactory(organization=org_a, role="learner").user
    users["admin_a"] = MemberFactory(organization=org_a, role="admin").user
    users["admin_b"] = MemberFactory(organization=org_b, role="admin").user
    users["platform"] = UserFactory(is_platform_admin=True)
    users["sponsor_s"] = UserFactory()
    users["sponsor_t"] = UserFactory()
    sponsor_s = sponsor_services.create_sponsor(
        users["sponsor_s"], {"name": "Sponsor S", "billing_email": "s@sponsor.example"}
    )
    sponsor_t = sponsor_services.create_sponsor(
        users["sponsor_t"], {"name": "Sponsor T", "billing_email": "t@sponsor.example"}
    )
    now = utcnow()
    sponsorship = sponsor_services.record_manual_sponsorship(
        sponsor_s,
        users["platform"],
        organization_slug="org-a",
        seats=5,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=300),
        note="seeded",
    )
    invitation, invitation_token = new_invitation(
        org_a, users["admin_a"], "invited@uni.example", "learner", [], ""
    )
    _db.session.add(invitation)
    sponsor_token = new_secret()
    _db.session.add(
        SponsorInvitation(
            sponsor_id=sponsor_s.id,
            email="invited-sponsor@uni.example",
            token_hash=hash_secret(sponsor_token),
            expires_at=now + timedelta(days=7),
            invited_by_id=users["sponsor_s"].id,
        )
    )
    spare_token, _ = account_services.create_api_token(users["learner_a"], "spare", None)
    for persona, user in users.items():
        world.bearer[persona] = account_services.create_api_token(user, "world", None)[1]
    _db.session.commit()  # a savepoint of the world's connection: requests see it

    client = world.app.test_client()
    client.csrf_token = client.get("/api/v1/auth/csrf").json["csrf_token"]
    world.session_cookie["anonymous"] = (client.get_cookie("lms_session").value, client.csrf_token)
    for persona, user in users.items():
        log_in(client, user)
        world.session_cookie[persona] = (
            client.get_cookie("lms_session").value,
            client.csrf_token,
        )
        if persona == "learner_a":
            enrollment_id = _complete_tiny_course(client, "org-a")
    certificate = _db.session.scalar(
        sa.select(Certificate).where(Certificate.enrollment_id == enrollment_id)
    )
    world.ids = {
        "organization": "org-a",
        "course": "tiny-course",
        "lesson_slug": "hello",
        "user_id": users["learner_a"].id,
        "grant_id": grant_a.id,
        "invitation_code": invitation.code,
        "invitation_token": invitation_token,
        "sponsor_invitation_token": sponsor_token,
        "certificate_code": certificate.code,
        "enrollment_id": enrollment_id,
        "token_id": spare_token.id,
        "sponsor_id": sponsor_s.id,
        "sponsorship_id": sponsorship.id,
        "other_sponsor_id": sponsor_t.id,
    }
    _db.session.commit()  # reading the users began a savepoint under the requests': keep them


@contextmanager
def seeded_world(app, folder: Path):
    """The world on one connection of ``app``'s database, rolled back afterwards."""
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        limiter.reset()
        world = World(app=app, connection=connection)
        try:
            seed(world, folder)
            _db.session.remove()
            yield world
        finally:
            _db.session.remove()
            engines[None] = engine
            if outer.is_active:
                outer.rollback()
            connection.close()
