"""Progress under concurrency, on PostgreSQL with real commits (a database of its own):
20 simultaneous completions of one lesson, and the last lesson from two tabs at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts import services as accounts
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.memberships import services as memberships
from lms.progress import enrolling, signals
from lms.progress.models import Enrollment, LessonProgress
from tests.progress.conftest import RIGHT, race_app


@pytest.fixture
def race(backend, fresh_database_url, tmp_path):
    """An app on a fresh database with one learner enrolled in tiny-course; yields
    (app, token, enrollment_id)."""
    with fresh_database_url("lms_progress_race") as url:
        with race_app(url, tmp_path, pool_size=25) as (app, _, org):
            memberships.record_grant(
                org,
                None,
                seats=5,
                starts_at=utcnow() - timedelta(days=1),
                ends_at=utcnow() + timedelta(days=30),
            )
            user = accounts.register_user(
                "racer@uni.example", "a racing passphrase", "R", verified=True
            )
            memberships.add_member(org, user, "learner")
            enrollment, _ = enrolling.enroll(user, "tiny-course")
            _, token = accounts.create_api_token(user, "race", None)
            db.session.commit()
            enrollment_id = enrollment.id
        yield app, token, enrollment_id
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def concurrently(app, token, count, path, body, method="put"):
    barrier = threading.Barrier(count)

    def call(_):
        client = app.test_client()
        barrier.wait()
        response = getattr(client, method)(
            path, json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@pytest.mark.postgresql_only
def test_twenty_concurrent_completions_of_one_lesson(race):
    app, token, enrollment_id = race
    statuses = concurrently(
        app,
        token,
        20,
        f"/api/v1/enrollments/{enrollment_id}/lessons/hello/progress",
        {"status": "completed"},
    )
    assert statuses == [200] * 20
    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress))
        enrollment = db.session.get(Enrollment, enrollment_id)
        assert rows == 1
        assert (enrollment.lessons_done, enrollment.required_done) == (1, 1)
        assert enrollment.percent_complete == 33


@pytest.mark.postgresql_only
def test_the_last_lesson_from_two_tabs_completes_the_enrollment_once(race):
    app, token, enrollment_id = race
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    base = f"/api/v1/enrollments/{enrollment_id}/lessons"
    assert (
        client.put(
            f"{base}/hello/progress", json={"status": "completed"}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{base}/check-basics/attempts", json={"answers": RIGHT}, headers=headers
        ).status_code
        == 201
    )
    completions = []
    receiver = completions.append
    signals.enrollment_completed.connect(receiver, weak=False)
    try:
        statuses = concurrently(app, token, 2, f"{base}/more/progress", {"status": "completed"})
    finally:
        signals.enrollment_completed.disconnect(receiver)
    assert statuses == [200, 200]
    assert completions == [enrollment_id]
    with app.app_context():
        enrollment = db.session.get(Enrollment, enrollment_id)
        assert enrollment.status == "completed" and enrollment.required_done == 3
        assert enrollment.percent_complete == 100
