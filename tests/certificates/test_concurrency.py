"""20 simultaneous completions of the last lesson, on PostgreSQL with real commits (a database
of its own): one certificate."""

import pytest
import sqlalchemy as sa

from lms.certificates.models import Certificate, CertificateEvent
from lms.core.extensions import db
from tests.progress.conftest import RIGHT
from tests.progress.test_concurrency import concurrently, race  # noqa: F401 (fixture)


@pytest.mark.postgresql_only
def test_twenty_concurrent_completions_of_the_last_lesson_issue_one_certificate(race):  # noqa: F811
    app, token, enrollment_id = race
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    base = f"/api/v1/enrollments/{enrollment_id}/lessons"
    response = client.put(f"{base}/hello/progress", json={"status": "completed"}, headers=headers)
    assert response.status_code == 200
    quiz = f"{base}/check-basics/attempts"
    response = client.post(quiz, json={"answers": RIGHT}, headers=headers)
    assert response.status_code == 201

    statuses = concurrently(app, token, 20, f"{base}/more/progress", {"status": "completed"})

    assert statuses == [200] * 20
    with app.app_context():
        certificates = db.session.scalars(sa.select(Certificate)).all()
        assert [c.enrollment_id for c in certificates] == [enrollment_id]
        assert certificates[0].pdf.startswith(b"%PDF-")  # rendered once committed
        events = db.session.scalars(sa.select(CertificateEvent.action)).all()
        assert events == ["issued"]
