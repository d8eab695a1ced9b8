"""Organization reports: rows, filters, sorting, pages, the streamed CSV and the summary."""

import csv
import io
import json
from datetime import timedelta

import sqlalchemy as sa

from lms.core.db import utcnow
from lms.progress.models import Enrollment
from tests.accounts.test_api import assert_error_shape
from tests.conftest import log_in
from tests.factories import MemberFactory, UserFactory
from tests.progress.conftest import (
    ADMIN_CHECK,
    CHART,
    HEADER,
    LOGGED_IN_USER,
    REPORT_PAGE,
    RIGHT,
    attempt,
    progress,
    summary_statements,
)


def enroll_people(app, org, names, course="tiny-course"):
    people = []
    for name in names:
        user = MemberFactory(organization=org, user=UserFactory(name=name)).user
        client = log_in(app.test_client(), user)
        enrollment = client.post("/api/v1/enrollments", json={"course": course}).json
        people.append((user, client, enrollment))
    return people


def finish(client, enrollment):
    progress(client, enrollment["id"], "hello")
    attempt(client, enrollment["id"], RIGHT)
    progress(client, enrollment["id"], "more")


def test_report_rows_filters_and_sorting(app, org, course, client, db):
    people = enroll_people(app, org, ["Ada", "Bea", "Cy"])
    finish(people[0][1], people[0][2])
    progress(people[1][1], people[1][2]["id"], "hello")
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    rows = client.get("/api/v1/organizations/ospo/report").json
    assert [r["name"] for r in rows] == ["Ada", "Bea", "Cy"]
    ada = rows[0]
    assert (ada["course"], ada["version"], ada["percent_complete"], ada["status"]) == (
        "tiny-course",
        "1.0.0",
        100,
        "completed",
    )
    assert ada["lessons_done"] == 2 and ada["quizzes_passed"] == 1 and ada["completed_at"]
    completed = client.get("/api/v1/organizations/ospo/report?status=completed").json
    assert [r["name"] for r in completed] == ["Ada"]
    by_percent = client.get("/api/v1/organizations/ospo/report?sort=-percent").json
    assert [r["name"] for r in by_percent] == ["Ada", "Bea", "Cy"]
    found = client.get("/api/v1/organizations/ospo/report?search=bea").json
    assert [r["name"] for r in found] == ["Bea"]
    future = (utcnow() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/organizations/ospo/report?active_since={future}").json == []
    assert client.get("/api/v1/organizations/ospo/report?course=other").json == []


def test_report_rejects_unknown_filters_and_big_pages(client, org, db):
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    assert_error_shape(client.get("/api/v1/organizations/ospo/report?colour=red"), 422)
    assert_error_shape(client.get("/api/v1/organizations/ospo/report?page_size=101"), 422)
    assert_error_shape(client.get("/api/v1/organizations/ospo/report?sort=shoe_size"), 422)


def test_report_is_for_the_organizations_admins_only(app, org, course, client, db):
    ((_, learner_client, _),) = enroll_people(app, org, ["Ada"])
    assert_error_shape(learner_client.get("/api/v1/organizations/ospo/report"), 403)
    log_in(client, UserFactory())
    assert_error_shape(client.get("/api/v1/organizations/ospo/report"), 404)


def test_report_page_makes_the_same_queries_for_any_page_size(
    app, org, course, client, db, count_queries
):
    enroll_people(app, org, [f"P{n:02d}" for n in range(12)])
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    with count_queries() as small:
        response = client.get("/api/v1/organizations/ospo/report?page_size=2")
        assert len(response.json) == 2
    with count_queries() as large:
        assert len(client.get("/api/v1/organizations/ospo/report?page_size=12").json) == 12
    assert len(small) == len(large) == LOGGED_IN_USER + ADMIN_CHECK + REPORT_PAGE == 3
    pages = json.loads(response.headers["X-Pagination"])
    assert (pages["total"], pages["total_pages"], pages["next_page"]) == (12, 6, 2)
    page_two = client.get("/api/v1/organizations/ospo/report?page_size=5&page=2").json
    assert [r["name"] for r in page_two] == [f"P{n:02d}" for n in range(5, 10)]


def test_csv_export_streams_every_row(app, org, course, client, db):
    people = enroll_people(app, org, ["=HYPERLINK(evil)", "Bea"])
    finish(people[1][1], people[1][2])
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    response = client.get("/api/v1/organizations/ospo/report?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(evil)", "Bea"]  # no formula injection
    assert rows[1]["status"] == "completed" and rows[1]["percent_complete"] == "100"


def test_summary_per_course(app, org, course, client, db, count_queries):
    people = enroll_people(app, org, ["A", "B", "C", "D"])
    finish(people[0][1], people[0][2])
    finish(people[1][1], people[1][2])
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.id == people[0][2]["id"])
        .values(started_at=utcnow() - timedelta(days=4))
    )
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.id == people[1][2]["id"])
        .values(started_at=utcnow() - timedelta(days=2))
    )
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    with count_queries() as statements:
        body = client.get("/api/v1/organizations/ospo/report/summary").json
    # One statement on PostgreSQL; two on SQLite (the median is taken in Python).
    assert len(statements) == LOGGED_IN_USER + ADMIN_CHECK + summary_statements(db)
    (summary,) = body["courses"]
    assert (summary["enrolled"], summary["in_progress"], summary["completed"]) == (4, 2, 2)
    assert summary["completion_rate"] == 0.5
    assert 2.9 <= summary["median_days_to_complete"] <= 3.1


def test_fast_report_rows_serialize_like_marshmallow(app):
    from datetime import UTC, datetime

    import marshmallow as ma

    from lms.progress.schemas import ReportRowOut

    row = {
        "enrollment_id": 1,
        "user_id": 2,
        "name": "Ada",
        "email": "a@uni.example",
        "course": "c",
        "version": "1.0.0",
        "percent_complete": 50,
        "lessons_done": 3,
        "quizzes_passed": 1,
        "status": "active",
        "started_at": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        "last_activity_at": datetime(2026, 2, 3, tzinfo=UTC),
        "completed_at": None,
        "certificate": None,
    }
    with_certificate = {**row, "certificate": "ABCD-EFGH-JKMN-PQRS"}
    fast = ReportRowOut(many=True).dump([row, with_certificate])
    reference = ma.Schema.dump(ReportRowOut(many=True), [row, with_certificate])
    assert fast == reference  # marshmallow's own path


def test_every_sort_order_in_both_directions(app, org, course, client, db):
    """Each order the report offers sorts by its key with the enrollment id as tie-breaker in
    the same direction (the index order), ascending and descending."""
    people = enroll_people(app, org, ["Cy", "Ada", "Bea", "Ada"])
    finish(people[2][1], people[2][2])
    progress(people[0][1], people[0][2]["id"], "hello")
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    rows = client.get("/api/v1/organizations/ospo/report?page_size=100").json
    keys = {
        "enrolled": lambda r: r["enrollment_id"],
        "name": lambda r: r["name"],
        "email": lambda r: r["email"],
        "course": lambda r: r["course"],
        "percent": lambda r: r["percent_complete"],
        "started": lambda r: r["started_at"],
        "last_activity": lambda r: r["last_activity_at"],
    }
    for sort, key in keys.items():
        ascending = sorted(rows, key=lambda r: (key(r), r["enrollment_id"]))
        got = client.get(f"/api/v1/organizations/ospo/report?sort={sort}").json
        assert [r["enrollment_id"] for r in got] == [r["enrollment_id"] for r in ascending], sort
        got = client.get(f"/api/v1/organizations/ospo/report?sort=-{sort}").json
        expected = list(reversed(ascending))
        assert [r["enrollment_id"] for r in got] == [r["enrollment_id"] for r in expected], sort
    by_completed = client.get("/api/v1/organizations/ospo/report?sort=-completed").json
    completed = [r for r in by_completed if r["completed_at"]]
    assert [r["name"] for r in completed] == ["Bea"]


def test_a_renamed_learner_sorts_and_is_found_by_the_new_name(app, org, course, client, db):
    people = enroll_people(app, org, ["Ada", "Bea"])
    _, ada_client, _ = people[0]
    assert ada_client.patch("/api/v1/me", json={"name": "Zoe"}).status_code == 200
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    rows = client.get("/api/v1/organizations/ospo/report?sort=name").json
    assert [r["name"] for r in rows] == ["Bea", "Zoe"]
    found = client.get("/api/v1/organizations/ospo/report?search=zoe").json
    assert [r["name"] for r in found] == ["Zoe"]
    assert client.get("/api/v1/organizations/ospo/report?search=ada").json == []


def enroll_quietly(org, names):
    """Learners enrolled through the service (no HTTP): for pages of many rows."""
    from lms.progress import enrolling

    for name in names:
        user = MemberFactory(organization=org, user=UserFactory(name=name)).user
        enrolling.enroll(user, "tiny-course")


def test_the_report_page_pages_with_the_apis_pager(org, course, client, db, count_queries):
    enroll_quietly(org, [f"L{n:02d}" for n in range(51)])
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    with count_queries() as statements:
        first = client.get("/organizations/ospo/report")
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert html.count("<td>L") == 50 and "<td>L49</td>" in html and "<td>L50</td>" not in html
    assert "Next →" in html and "← Previous" not in html
    # The page of rows costs what an API page costs (one statement), whatever its size;
    # the summary, the chart and the header add theirs.
    assert len(statements) == (
        LOGGED_IN_USER + ADMIN_CHECK + REPORT_PAGE + summary_statements(db) + CHART + HEADER
    )
    second = client.get("/organizations/ospo/report?page=2").get_data(as_text=True)
    assert second.count("<td>L") == 1 and "<td>L50</td>" in second
    assert "← Previous" in second and "Next →" not in second
    filtered = client.get("/organizations/ospo/report?search=L07").get_data(as_text=True)
    assert filtered.count("<td>L") == 1 and "Next →" not in filtered


def test_the_report_page_makes_the_same_statements_for_few_or_many_learners(
    org, course, client, db, count_queries
):
    enroll_quietly(org, ["Ada"])
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    with count_queries() as one:
        assert client.get("/organizations/ospo/report").status_code == 200
    enroll_quietly(org, [f"P{n:02d}" for n in range(30)])
    with count_queries() as many:
        assert client.get("/organizations/ospo/report").status_code == 200
    assert len(one) == len(many)


def test_csv_export_runs_no_count_and_no_page(app, org, course, client, db, count_queries):
    enroll_people(app, org, ["Ada", "Bea"])
    admin = MemberFactory(organization=org, role="admin").user
    log_in(client, admin)
    for url in (
        "/api/v1/organizations/ospo/report?format=csv",
        "/organizations/ospo/report?format=csv",
    ):
        with count_queries() as statements:
            response = client.get(url)
            body = response.get_data(as_text=True)
        assert "X-Pagination" not in response.headers
        assert body.count("\n") == 3  # the header and two learners
        # The user, the admin check, and the one streamed SELECT of every row.
        assert len(statements) == LOGGED_IN_USER + ADMIN_CHECK + 1, statements
