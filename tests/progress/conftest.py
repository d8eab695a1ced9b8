from contextlib import contextmanager

import flask_migrate
import pytest

from lms import create_app
from lms.courses import services as course_services
from lms.memberships import services as memberships
from tests.conftest import log_in, make_test_config
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory


@pytest.fixture
def course(db, tmp_path):
    """tiny-course: hello, world (optional), check-basics (quiz, 3 attempts), more."""
    return course_services.import_course_folder(make_course(tmp_path), publish=True)


@pytest.fixture
def org(db):
    organization = OrganizationFactory(slug="ospo")
    SeatGrantFactory(organization=organization, seats=10)
    return organization


@pytest.fixture
def learner(org):
    return MemberFactory(organization=org, role="learner").user


@pytest.fixture
def learner_client(client, learner):
    return log_in(client, learner)


@pytest.fixture
def enrollment(learner_client, course):
    response = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"})
    assert response.status_code == 201, response.json
    return response.json


def progress(client, enrollment_id, lesson, status="completed", **extra):
    return client.put(
        f"/api/v1/enrollments/{enrollment_id}/lessons/{lesson}/progress",
        json={"status": status, **extra},
    )


def attempt(client, enrollment_id, answers, quiz="check-basics"):
    return client.post(
        f"/api/v1/enrollments/{enrollment_id}/lessons/{quiz}/attempts", json={"answers": answers}
    )


RIGHT = {"q1": ["a"], "q2": ["a", "b"]}
HALF = {"q1": ["a"], "q2": ["a"]}


# The design's query budgets count the statements of the service a route calls: the dashboard
# read (<= 2), marking a lesson complete (<= 4), a report page (<= 2), the organization summary
# (<= 1 on PostgreSQL). A request adds the statements of its view: loading the logged-in user,
# and on an organization's routes the check that they are one of its admins. The tests pin
# request = view + service, as numbers.
LOGGED_IN_USER = 1
ADMIN_CHECK = 1
DASHBOARD = 1
MARK_COMPLETE = 3  # the enrollment, lesson and seat; the progress upsert; the counters
REPORT_PAGE = 1  # the page with its total as a column, whatever the page size
CHART = 1  # completions per week
HEADER = 1  # an HTML page's header: the organizations and sponsors the person administers


def summary_statements(db) -> int:
    """PostgreSQL takes the median in the query (``percentile_cont``); SQLite has no
    percentile function, so it reads the completed durations in a second statement."""
    return 1 if db.session.get_bind().dialect.name == "postgresql" else 2


@contextmanager
def race_app(url, tmp_path, pool_size):
    """For races with real commits: an app on the fresh database ``url`` (``pool_size``
    connections), migrated, with tiny-course published and organization "race". Yields
    (app, imported course, organization) inside an app context for the test's own setup."""
    config = make_test_config(url, tmp_path)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": pool_size, "max_overflow": 0}
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        imported = course_services.import_course_folder(make_course(tmp_path / "c"), publish=True)
        org = memberships.create_organization(None, {"slug": "race", "name": "Race U"})
        yield app, imported, org
