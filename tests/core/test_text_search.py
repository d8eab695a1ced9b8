"""``?search=`` takes ``%``, ``_`` and ``/`` as the characters themselves, never as LIKE
wildcards, in every list that searches (members and reports; API and pages)."""

import pytest

from lms.courses import services as course_services
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory, UserFactory

PEOPLE = [
    ("Ada Lovelace", "ada@uni.example"),
    ("Grace 100% Hopper", "grace_hopper@uni.example"),
    ("Alan a/b Turing", "alan@uni.example"),
]

# search -> the names it must find (and nothing else)
SEARCHES = [
    ("%", ["Grace 100% Hopper"]),
    ("100%", ["Grace 100% Hopper"]),
    ("_", ["Grace 100% Hopper"]),
    ("e_h", ["Grace 100% Hopper"]),
    ("a_a", []),  # a wildcard would match "ada"
    ("%lovelace", []),
    ("/", ["Alan a/b Turing"]),  # SQLAlchemy's escape character, taken literally too
    ("LOVELACE", ["Ada Lovelace"]),  # still case-insensitive
]


@pytest.fixture
def org_with_people(app, db, tmp_path):
    course_services.import_course_folder(make_course(tmp_path), publish=True)
    organization = OrganizationFactory(slug="ospo")
    SeatGrantFactory(organization=organization, seats=10)
    admin = MemberFactory(
        organization=organization,
        role="admin",
        user=UserFactory(name="Zed Admin", email="zed@uni.example"),
    ).user
    for name, email in PEOPLE:
        user = MemberFactory(organization=organization, user=UserFactory(name=name, email=email))
        learner = log_in(app.test_client(), user.user)
        enrolled = learner.post("/api/v1/enrollments", json={"course": "tiny-course"})
        assert enrolled.status_code == 201, enrolled.json
    return admin


@pytest.mark.parametrize(("search", "expected"), SEARCHES)
def test_member_and_report_searches_take_wildcards_literally(
    client, org_with_people, search, expected
):
    log_in(client, org_with_people)
    members = client.get("/api/v1/organizations/ospo/members", query_string={"search": search})
    assert members.status_code == 200, members.json
    assert sorted(m["name"] for m in members.json) == expected
    report = client.get("/api/v1/organizations/ospo/report", query_string={"search": search})
    assert report.status_code == 200, report.json
    assert sorted(r["name"] for r in report.json) == expected


def test_the_pages_search_the_same_way(client, org_with_people):
    log_in(client, org_with_people)
    members_page = client.get("/organizations/ospo", query_string={"q": "%"}).get_data(True)
    report_page = client.get("/organizations/ospo/report", query_string={"search": "%"})
    assert report_page.status_code == 200
    for page in (members_page, report_page.get_data(True)):
        assert "Grace 100% Hopper" in page
        assert "Ada Lovelace" not in page and "Alan a/b Turing" not in page
