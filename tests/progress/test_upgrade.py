"""Upgrading moves an enrollment forward only, never to an older version published again."""

from lms.courses import services as course_services
from tests.accounts.test_api import assert_error_shape
from tests.courses.builders import make_course


def version_folder(tmp_path, label: str):
    folder = make_course(tmp_path / label)
    course_yaml = folder / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace('"1.0.0"', f'"{label}"'))
    return folder


def test_upgrade_never_moves_to_an_older_republished_version(learner_client, course, tmp_path, db):
    course_services.import_course_folder(version_folder(tmp_path, "2.0.0"), publish=True)
    enrolled = learner_client.post("/api/v1/enrollments", json={"course": "tiny-course"}).json
    assert enrolled["version"] == "2.0.0"

    # The platform admin publishes 1.0.0 again (importing its content once more).
    again = course_services.import_course_folder(make_course(tmp_path / "again"), publish=True)
    db.session.flush()  # as the request's commit would
    assert again.version.label == "1.0.0" and again.version.is_published

    url = f"/api/v1/enrollments/{enrolled['id']}"
    assert learner_client.get(url).json["newer_version"] is None
    body = assert_error_shape(learner_client.post(f"{url}/upgrade"), 409)
    assert "already on the newest version" in body["message"]
    assert learner_client.get(url).json["version"] == "2.0.0"

    course_services.import_course_folder(version_folder(tmp_path, "3.0.0"), publish=True)
    moved = learner_client.post(f"{url}/upgrade")
    assert moved.status_code == 200, moved.json
    assert moved.json["version"] == "3.0.0"
