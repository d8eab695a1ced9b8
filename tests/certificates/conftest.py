import pytest
import sqlalchemy as sa

from lms.certificates.models import Certificate
from lms.courses import services as course_services
from tests.conftest import log_in
from tests.courses.builders import make_course
from tests.factories import MemberFactory, OrganizationFactory, SeatGrantFactory
from tests.progress.conftest import RIGHT


@pytest.fixture
def course(db, tmp_path):
    """tiny-course: hello, world (optional), check-basics (quiz), more."""
    return course_services.import_course_folder(make_course(tmp_path), publish=True)


@pytest.fixture
def org(db):
    organization = OrganizationFactory(slug="ospo", name="Example University OSPO")
    SeatGrantFactory(organization=organization, seats=10)
    return organization


@pytest.fixture
def learner(org):
    return MemberFactory(organization=org, role="learner", user__name="Łukasz Øster").user


@pytest.fixture
def org_admin(org):
    return MemberFactory(organization=org, role="admin").user


def complete_course(client, course="tiny-course") -> int:
    """Enroll the logged-in client and finish every required lesson; the enrollment id."""
    response = client.post("/api/v1/enrollments", json={"course": course})
    assert response.status_code in (200, 201), response.json
    enrollment_id = response.json["id"]
    base = f"/api/v1/enrollments/{enrollment_id}/lessons"
    assert client.put(f"{base}/hello/progress", json={"status": "completed"}).status_code == 200
    assert client.post(f"{base}/check-basics/attempts", json={"answers": RIGHT}).status_code == 201
    response = client.put(f"{base}/more/progress", json={"status": "completed"})
    assert response.status_code == 200 and response.json["enrollment_status"] == "completed"
    return enrollment_id


@pytest.fixture
def certificate(client, db, course, learner):
    """The learner's certificate for tiny-course, issued by completing it through the API
    (its PDF rendered by the in-process outbox drain). The client stays logged in as the
    learner."""
    log_in(client, learner)
    enrollment_id = complete_course(client)
    query = sa.select(Certificate).where(Certificate.enrollment_id == enrollment_id)
    return db.session.scalar(query)
