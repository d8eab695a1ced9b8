"""Course API: catalog, outline, lessons, drafts, import uploads and their bad input."""

import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.courses import services
from lms.courses.models import Course
from tests.accounts.test_api import assert_error_shape
from tests.courses.builders import make_course, tar_folder, write, zip_folder


@pytest.fixture
def published(db, tmp_path):
    return services.import_course_folder(make_course(tmp_path), publish=True)


@pytest.fixture
def draft(db, tmp_path):
    return services.import_course_folder(make_course(tmp_path / "d", slug="draft-course"))


def test_catalog_lists_published_courses_only(client, published, draft):
    response = client.get("/api/v1/courses")
    assert response.status_code == 200
    assert [c["slug"] for c in response.json] == ["tiny-course"]
    assert response.json[0]["version"] == "1.0.0"
    assert "X-Pagination" in response.headers


def test_catalog_filters_by_topic(client, published):
    assert len(client.get("/api/v1/courses?topic=testing").json) == 1
    assert client.get("/api/v1/courses?topic=cooking").json == []


def test_catalog_rejects_unknown_filters_and_big_pages(client, db):
    assert_error_shape(client.get("/api/v1/courses?colour=red"), 422)
    assert_error_shape(client.get("/api/v1/courses?page_size=101"), 422)


def test_admins_see_drafts_learners_do_not(admin_client, published, draft):
    drafts = admin_client.get("/api/v1/courses?status=draft").json
    assert [c["slug"] for c in drafts] == ["draft-course"]
    everything = admin_client.get("/api/v1/courses?status=all").json
    assert {c["slug"] for c in everything} == {"tiny-course", "draft-course"}
    anonymous = admin_client.application.test_client()
    assert_error_shape(anonymous.get("/api/v1/courses?status=draft"), 403)
    assert anonymous.get("/api/v1/courses/draft-course").status_code == 404


def test_admin_can_read_a_draft_outline(admin_client, draft):
    response = admin_client.get("/api/v1/courses/draft-course")
    assert response.status_code == 200 and response.json["published"] is False


def test_outline_has_modules_lessons_and_minutes(client, published):
    response = client.get("/api/v1/courses/tiny-course")
    assert response.status_code == 200
    body = response.json
    assert body["version"] == "1.0.0" and body["total_minutes"] == 18
    assert [m["slug"] for m in body["modules"]] == ["basics", "next"]
    first = body["modules"][0]["lessons"]
    assert [(item["slug"], item["kind"]) for item in first] == [
        ("hello", "lesson"),
        ("world", "lesson"),
        ("check-basics", "quiz"),
    ]
    assert first[1]["required"] is False


def test_lesson_content_and_neighbours(client, published):
    body = client.get("/api/v1/courses/tiny-course/lessons/hello").json
    assert '<h2 id="welcome">Welcome</h2>' in body["html"]
    assert body["previous"] is None and body["next"]["slug"] == "world"
    assert body["module"] == {"slug": "basics", "title": "Basics"}


def test_quiz_is_served_without_answers(client, published):
    response = client.get("/api/v1/courses/tiny-course/lessons/check-basics")
    body = response.json
    assert body["kind"] == "quiz" and body["max_attempts"] == 3
    assert [q["id"] for q in body["questions"]] == ["q1", "q2"]
    raw = response.get_data(as_text=True)
    assert "answer" not in raw and "explanation" not in raw and "MIT is a license" not in raw


def test_unknown_course_and_lesson_are_404(client, published):
    assert_error_shape(client.get("/api/v1/courses/nope"), 404)
    assert_error_shape(client.get("/api/v1/courses/tiny-course/lessons/nope"), 404)


def test_draft_course_requested_by_a_learner_is_404(user_client, draft):
    assert_error_shape(user_client.get("/api/v1/courses/draft-course"), 404)
    assert_error_shape(user_client.get("/api/v1/courses/draft-course/lessons/hello"), 404)


def test_publish_and_unpublish_through_the_api(admin_client, draft):
    anonymous = admin_client.application.test_client()
    assert anonymous.get("/api/v1/courses/draft-course").status_code == 404
    response = admin_client.patch("/api/v1/courses/draft-course", json={"published": True})
    assert response.status_code == 200 and response.json["published"] is True
    assert anonymous.get("/api/v1/courses/draft-course").status_code == 200
    admin_client.patch("/api/v1/courses/draft-course", json={"published": False})
    assert anonymous.get("/api/v1/courses/draft-course").status_code == 404


def test_learners_cannot_publish_or_import(user_client, draft):
    assert_error_shape(
        user_client.patch("/api/v1/courses/draft-course", json={"published": True}), 403
    )
    response = user_client.post(
        "/api/v1/courses/import",
        data={"archive": (b"x", "c.zip")},
        content_type="multipart/form-data",
    )
    assert_error_shape(response, 403)


def upload(client, data: bytes, name="course.zip", publish=False):
    return client.post(
        f"/api/v1/courses/import{'?publish=true' if publish else ''}",
        data={"archive": (__import__("io").BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_zip_then_same_again_then_changed(admin_client, tmp_path, db):
    folder = make_course(tmp_path)
    first = upload(admin_client, zip_folder(folder), publish=True)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "created" and first.json["published"] is True
    again = upload(admin_client, zip_folder(folder))
    assert again.status_code == 200 and again.json["status"] == "unchanged"
    path = folder / "course.yaml"
    path.write_text(path.read_text().replace('"1.0.0"', '"2.0.0"'))
    changed = upload(admin_client, tar_folder(folder), name="course.tar.gz")
    assert changed.status_code == 201 and changed.json["version_number"] == 2


def test_import_reports_problems_with_file_and_line(admin_client, tmp_path, db):
    folder = make_course(tmp_path)
    write(folder / "02-next" / "01-more.md", "---\ntitle: More\n---\n\nSee [x](nowhere.md)\n")
    response = upload(admin_client, zip_folder(folder))
    body = assert_error_shape(response, 422)
    problems = {(p["file"], p["line"], p["message"]) for p in body["errors"]["problems"]}
    assert ("02-next/01-more.md", 2, "missing key 'minutes'") in problems
    assert ("02-next/01-more.md", 5, "link to a lesson that does not exist: nowhere.md") in problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_archive_over_the_size_limit_is_413(admin_client, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "COURSE_ARCHIVE_MAX_BYTES", 1000)
    response = upload(admin_client, zip_folder(make_course(tmp_path)) + b"\0" * 2000)
    body = assert_error_shape(response, 413)
    assert "limited" in body["message"]


def test_an_archive_of_exactly_the_limit_is_imported(admin_client, app, monkeypatch, tmp_path, db):
    # The limit is the file's: the multipart envelope around it does not count against it.
    archive = zip_folder(make_course(tmp_path))
    monkeypatch.setitem(app.config, "COURSE_ARCHIVE_MAX_BYTES", len(archive))
    assert upload(admin_client, archive).status_code == 201
    monkeypatch.setitem(app.config, "COURSE_ARCHIVE_MAX_BYTES", len(archive) - 1)
    assert_error_shape(upload(admin_client, archive), 413)


def _import_area(app) -> Path:
    return Path(app.instance_path) / "imports"


@pytest.mark.parametrize(
    "bad_name", ["../evil.txt", "tiny-course/../../evil.txt", "/tmp/evil-absolute.txt"]
)
def test_zip_with_escaping_paths_is_refused_and_writes_nothing(
    admin_client, app, tmp_path, bad_name, db
):
    archive = zip_folder(make_course(tmp_path), extra={bad_name: b"owned"})
    response = upload(admin_client, archive)
    body = assert_error_shape(response, 422)
    assert any(bad_name in message for message in body["errors"]["archive"])
    assert not Path("/tmp/evil-absolute.txt").exists()
    assert not (Path(app.instance_path) / "evil.txt").exists()
    leftovers = list(_import_area(app).glob("*")) if _import_area(app).exists() else []
    assert leftovers == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_tar_with_a_symlink_is_refused(admin_client, tmp_path, db):
    link = tarfile.TarInfo("tiny-course/passwd")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    response = upload(admin_client, tar_folder(make_course(tmp_path), [link]), "c.tar.gz")
    body = assert_error_shape(response, 422)
    assert "links are not allowed" in body["errors"]["archive"][0]


def test_tar_with_a_device_file_is_refused(admin_client, tmp_path, db):
    device = tarfile.TarInfo("tiny-course/null")
    device.type = tarfile.CHRTYPE
    response = upload(admin_client, tar_folder(make_course(tmp_path), [device]), "c.tar.gz")
    body = assert_error_shape(response, 422)
    assert "only files and folders" in body["errors"]["archive"][0]


def test_something_that_is_not_an_archive_is_422(admin_client, db):
    body = assert_error_shape(upload(admin_client, b"just some text"), 422)
    assert ".zip or .tar.gz" in body["message"]


def test_catalog_and_outline_make_a_constant_number_of_queries(client, db, tmp_path, count_queries):
    small = services.import_course_folder(make_course(tmp_path / "a", slug="small"), publish=True)
    big_folder = make_course(tmp_path / "b", slug="big")
    for n in range(3, 30):
        write(
            big_folder / "02-next" / f"{n:02d}-extra-{n}.md",
            f"---\ntitle: X{n}\nminutes: 1\n---\n\nText.\n",
        )
    big = services.import_course_folder(big_folder, publish=True)
    assert big.version.lesson_count > small.version.lesson_count + 20
    counts = {}
    for slug in ("small", "big"):
        with count_queries() as queries:
            assert client.get(f"/api/v1/courses/{slug}").status_code == 200
        counts[slug] = len(queries)
    assert counts["small"] == counts["big"] <= 3
    with count_queries() as one_course:
        client.get("/api/v1/courses?page_size=1")
    with count_queries() as two_courses:
        client.get("/api/v1/courses?page_size=2")
    assert len(one_course) == len(two_courses) <= 2


def test_lesson_files_are_served_from_the_course(client, published):
    html = client.get("/api/v1/courses/tiny-course/lessons/hello").json["html"]
    src = html.split('src="', 1)[1].split('"', 1)[0]
    response = client.get(src)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert "immutable" in response.headers["Cache-Control"]


def test_zip_written_without_file_types_is_accepted(admin_client, tmp_path, db):
    # Python's ZipFile.writestr records permissions but no file type, like many tools do.
    import io
    import zipfile

    folder = make_course(tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.writestr(path.relative_to(folder).as_posix(), path.read_bytes())
    response = upload(admin_client, buffer.getvalue())
    assert response.status_code == 201, response.json
