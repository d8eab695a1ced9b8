"""From invitation to a completed course through the pages; the admin sees it in the report."""

import csv
import io
import re

from tests.accounts.test_views import csrf_from, login_page
from tests.conftest import log_in
from tests.factories import MemberFactory


def post(client, page, action, data):
    return client.post(action, data={**data, "csrf_token": csrf_from(client.get(page))})


def test_a_learner_completes_a_course_through_the_pages(client, app, org, learner, course, db):
    login_page(client, learner)
    enrolled = post(client, "/courses/tiny-course", "/courses/tiny-course/enroll", {})
    assert enrolled.status_code == 302
    first = enrolled.headers["Location"]
    assert re.fullmatch(r"/learn/\d+/hello", first)
    enrollment_id = first.split("/")[2]

    page = client.get(first).get_data(as_text=True)
    assert "Mark as complete" in page and '<h2 id="welcome">Welcome</h2>' in page
    done = post(client, first, f"{first}/complete", {})
    assert done.headers["Location"] == f"/learn/{enrollment_id}/world"

    quiz = f"/learn/{enrollment_id}/check-basics"
    wrong = client.post(
        f"{quiz}/attempt", data={"csrf_token": csrf_from(client.get(quiz)), "q1": "b", "q2": ["a"]}
    )
    assert wrong.status_code == 201
    html = " ".join(wrong.get_data(as_text=True).split())
    assert "Not passed yet" in html and "Meetings are not files." in html
    incomplete = client.post(
        f"{quiz}/attempt", data={"csrf_token": csrf_from(client.get(quiz)), "q1": "a"}
    )
    assert incomplete.status_code == 422
    assert "Answer every question" in incomplete.get_data(as_text=True)
    right = client.post(
        f"{quiz}/attempt",
        data={"csrf_token": csrf_from(client.get(quiz)), "q1": "a", "q2": ["a", "b"]},
    )
    assert "Passed" in right.get_data(as_text=True)

    last = f"/learn/{enrollment_id}/more"
    post(client, last, f"{last}/complete", {})
    dashboard = " ".join(client.get("/dashboard").get_data(as_text=True).split())
    assert "Completed on" in dashboard and "A Tiny Course" in dashboard

    admin = MemberFactory(organization=org, role="admin").user
    staff = app.test_client()
    login_page(staff, admin)
    report = " ".join(staff.get("/organizations/ospo/report").get_data(as_text=True).split())
    assert learner.email in report and "100%" in report
    assert '<title id="chart-title">Completions per week</title>' in report
    exported = staff.get("/organizations/ospo/report?format=csv&status=completed")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["email"], r["status"]) for r in rows] == [(learner.email, "completed")]


def test_the_report_page_is_for_admins(client, org, learner, db):
    log_in(client, learner)
    assert client.get("/organizations/ospo/report").status_code == 403


def test_someone_elses_lesson_page_is_404(client, app, org, course, learner, db):
    owner = log_in(app.test_client(), learner)
    enrollment = owner.post("/api/v1/enrollments", json={"course": "tiny-course"}).json
    intruder = MemberFactory(organization=org).user
    login_page(client, intruder)
    assert client.get(f"/learn/{enrollment['id']}/hello").status_code == 404


def test_the_report_page_refuses_bad_filters_and_exports_filtered_csv(client, org, course, db):
    admin = MemberFactory(organization=org, role="admin").user
    login_page(client, admin)
    bad = client.get("/organizations/ospo/report?sort=shoe_size")
    assert bad.status_code == 422
    assert "Some report filters are not valid." in bad.get_data(as_text=True)
    empty_filters = client.get("/organizations/ospo/report?course=&status=&search=")
    assert empty_filters.status_code == 200
    exported = client.get("/organizations/ospo/report?format=csv&status=completed")
    assert exported.mimetype == "text/csv"
    assert exported.get_data(as_text=True).splitlines()[0].startswith("name,email,course")
