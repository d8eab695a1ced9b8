"""seed-demo's sponsor: a manual sponsorship funding Demo University, with an impact page that
shows the demo learners' progress (the cohort is large enough not to be suppressed)."""

from lms.demo import DEMO_PASSWORD
from lms.sponsorships.demo import DEMO_SPONSOR


def test_the_demo_sponsor_sees_its_impact(runner, db, client):
    result = runner.invoke(args=["lms", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_SPONSOR[1] in result.output
    login = client.post(
        "/api/v1/auth/login", json={"email": DEMO_SPONSOR[1], "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    client.csrf_token = login.json["csrf_token"]
    (sponsor,) = client.get("/api/v1/sponsors").json
    (sponsorship,) = client.get(f"/api/v1/sponsors/{sponsor['id']}/sponsorships").json
    assert (sponsorship["source"], sponsorship["seats"]) == ("manual", 10)
    assert sponsorship["organization"] == "demo-university"
    report = client.get(f"/api/v1/sponsors/{sponsor['id']}/impact").json
    rows = {row["course"]: row for row in report["rows"]}
    foundations = rows["open-source-foundations"]
    assert foundations["learners"] == 8 and foundations["completions"] == 5
    assert rows["responsible-genai-research-software"]["learners"] is None  # one learner
    page = client.get(f"/sponsors/{sponsor['id']}/impact")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
