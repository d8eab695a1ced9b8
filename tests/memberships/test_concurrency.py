"""Seats are never overbooked: 50 acceptances race for 10 free seats on PostgreSQL.

This test commits for real (the race happens between transactions), so it runs on a database
of its own rather than inside the rolled-back test transaction.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from lms import create_app
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships import invitations, services
from lms.memberships.models import Invitation, Organization, OrganizationMember
from tests.conftest import make_test_config

RACERS = 50
SEATS = 10


@pytest.mark.postgresql_only
def test_fifty_concurrent_acceptances_for_ten_seats(backend, fresh_database_url, tmp_path):
    with fresh_database_url("lms_seat_race") as url:
        config = make_test_config(url, tmp_path)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": RACERS + 5, "max_overflow": 0}
        app = create_app(config)
        with app.app_context():
            flask_migrate.upgrade()
            organization = Organization(slug="race", name="Race University")
            db.session.add(organization)
            db.session.flush()
            services.record_grant(
                organization,
                None,
                seats=SEATS,
                starts_at=utcnow() - timedelta(days=1),
                ends_at=utcnow() + timedelta(days=30),
            )
            tokens = []
            for n in range(RACERS):
                invitation, raw = invitations.new_invitation(
                    organization, None, f"racer{n}@uni.example", "learner", [], ""
                )
                db.session.add(invitation)
                tokens.append(raw)
            db.session.commit()

        barrier = threading.Barrier(RACERS)

        def accept(token: str) -> int:
            client = app.test_client()
            barrier.wait()  # everyone fires at once
            response = client.post(
                f"/api/v1/invitations/{token}/accept",
                json={"name": "Racer", "password": "a racing passphrase"},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            statuses = list(pool.map(accept, tokens))

        assert statuses.count(200) == SEATS, statuses
        assert statuses.count(409) == RACERS - SEATS, statuses
        with app.app_context():
            active = db.session.scalar(
                sa.select(sa.func.count()).where(
                    OrganizationMember.status == "active", OrganizationMember.role == "learner"
                )
            )
            accepted = db.session.scalar(
                sa.select(sa.func.count()).where(Invitation.status == "accepted")
            )
            assert active == accepted == SEATS
            db.session.remove()
            db.engine.dispose()
