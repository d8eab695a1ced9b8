"""One commit per request; after-commit work runs only when the commit happened."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.core.transaction import after_commit


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
