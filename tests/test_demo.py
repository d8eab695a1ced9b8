import sqlalchemy as sa

from lms.accounts.models import User
from lms.demo import DEMO_PASSWORD


def test_seed_demo_is_idempotent_and_prints_working_logins(runner, db, client):
    first = runner.invoke(args=["lms", "seed-demo"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    second = runner.invoke(args=["lms", "seed-demo"])
    assert second.exit_code == 0
    assert second.output == first.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count
    assert "admin@example.org" in first.output and DEMO_PASSWORD in first.output
    ospo = client.post(
        "/api/v1/auth/login", json={"email": "ospo@example.org", "password": DEMO_PASSWORD}
    )
    client.csrf_token = ospo.json["csrf_token"]
    membership = client.get("/api/v1/organizations/demo-university/membership").json
    # 25 invoice-paid seats and 10 from the demo sponsor; 4 researchers and its cohort of 5.
    assert (membership["seats_total"], membership["seats_used"]) == (35, 9)
    courses = client.get("/api/v1/courses").json
    assert {c["slug"] for c in courses} == {
        "open-source-foundations",
        "responsible-genai-research-software",
    }

    login = client.post(
        "/api/v1/auth/login", json={"email": "admin@example.org", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    assert login.json["user"]["is_platform_admin"] is True


def test_seed_demo_refuses_to_run_in_production(app, runner, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "production")
    result = runner.invoke(args=["lms", "seed-demo"])
    assert result.exit_code != 0
    assert "refuses to run with ENV=production" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "admin@example.org")) is None


def test_seed_demo_spreads_its_story_over_twelve_weeks(runner, db, client):
    """Issue 13: the demo report shows a weekly chart with bars in many weeks and a median
    above zero; the dates are the same on a second run (nothing is dated twice)."""
    from datetime import timedelta

    from lms.certificates.models import Certificate
    from lms.core.db import utcnow
    from lms.progress.models import Enrollment, LessonProgress

    assert runner.invoke(args=["lms", "seed-demo"]).exit_code == 0

    def story():
        return db.session.execute(
            sa.select(
                Enrollment.learner_email, Enrollment.started_at, Enrollment.completed_at
            ).order_by(Enrollment.learner_email, Enrollment.course_slug)
        ).all()

    first = story()
    now = utcnow().replace(tzinfo=None)
    started = [row.started_at.replace(tzinfo=None) for row in first]
    completed = [row.completed_at.replace(tzinfo=None) for row in first if row.completed_at]
    assert len(completed) == 5
    assert all(now - timedelta(weeks=12) <= moment < now for moment in started + completed)
    weeks = {moment.isocalendar()[:2] for moment in started}
    assert len(weeks) > 6, weeks
    assert len({moment.isocalendar()[:2] for moment in completed}) >= 3
    durations = [(row.completed_at - row.started_at).days for row in first if row.completed_at]
    assert min(durations) >= 1
    # Lessons were done in between, not all at the seeding moment.
    moments = db.session.scalars(
        sa.select(LessonProgress.completed_at).where(LessonProgress.completed_at.is_not(None))
    ).all()
    assert len({m.date() for m in moments}) > 20
    certificate = db.session.scalar(
        sa.select(Certificate).where(Certificate.learner_email == "ben.lab@example.org")
    )
    assert certificate.issued_at.replace(tzinfo=None) < now - timedelta(days=7)

    assert runner.invoke(args=["lms", "seed-demo"]).exit_code == 0
    db.session.expire_all()
    assert story() == first

    client.post("/api/v1/auth/login", json={"email": "ospo@example.org", "password": DEMO_PASSWORD})
    summary = client.get("/api/v1/organizations/demo-university/report/summary").json
    medians = {row["course"]: row["median_days_to_complete"] for row in summary["courses"]}
    assert medians["open-source-foundations"] >= 7, medians
