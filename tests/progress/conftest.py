import pytest

from lms.courses import services as course_services
from tests.conftest import log_in
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
