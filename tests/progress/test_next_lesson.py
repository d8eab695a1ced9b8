"""A completed enrollment has no next lesson: not in the API, not on the dashboard."""

from tests.progress.conftest import RIGHT, attempt, progress


def test_next_lesson_leads_on_until_the_enrollment_is_completed(learner_client, enrollment):
    enrollment_id = enrollment["id"]
    assert enrollment["next_lesson"] == {"slug": "hello", "title": "Hello"}
    progress(learner_client, enrollment_id, "hello")
    progress(learner_client, enrollment_id, "more")
    body = learner_client.get(f"/api/v1/enrollments/{enrollment_id}").json
    assert body["status"] == "active" and body["next_lesson"]["slug"] == "more"
    dashboard = learner_client.get("/dashboard").get_data(as_text=True)
    assert "Resume:" in dashboard

    # Passing the quiz completes the course: the resume point stays, but nothing is next.
    attempt(learner_client, enrollment_id, RIGHT)
    detail = learner_client.get(f"/api/v1/enrollments/{enrollment_id}").json
    listed = learner_client.get("/api/v1/enrollments").json[0]
    for body in (detail, listed):
        assert body["status"] == "completed"
        assert body["next_lesson"] is None
    dashboard = " ".join(learner_client.get("/dashboard").get_data(as_text=True).split())
    assert "Completed on" in dashboard and "Resume:" not in dashboard
    assert "Review the course" in dashboard
