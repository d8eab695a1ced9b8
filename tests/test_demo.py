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
