"""Damaged and awkward archives: a file and a folder of the same name, a member name too long
for any file system, a member whose data is corrupt or cut short. Each is a 422 that names
the member, through the API and the CLI, for .zip and .tar.gz alike; nothing is written
outside the import area and nothing is half-imported."""

import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms.courses.models import Course
from tests.accounts.test_api import assert_error_shape
from tests.courses.builders import make_course
from tests.courses.test_api import upload

LONG_NAME = "tiny-course/01-basics/" + "a" * 300 + ".md"


def course_files(tmp_path: Path) -> dict[str, bytes]:
    folder = make_course(tmp_path)
    return {
        f"{folder.name}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def zip_of(entries: list[tuple[str, bytes]], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(entries: list[tuple[str, bytes | None]]) -> bytes:
    """``None`` as data makes a folder entry."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def import_area(app) -> Path:
    return Path(app.instance_path) / "imports"


def assert_refused_naming(response, member: str, app, db, *words: str) -> dict:
    body = assert_error_shape(response, 422)
    messages = body["errors"]["archive"]
    assert any(member in message for message in messages), messages
    for word in words:
        assert any(word in message for message in messages), messages
    area = import_area(app)
    assert not area.exists() or list(area.iterdir()) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0
    return body


CLASHES = [
    # a file, then a file inside a folder of the same name
    [("tiny-course/01-basics/notes", b"a file"), ("tiny-course/01-basics/notes/inner.md", b"x")],
    # the other way round
    [("tiny-course/01-basics/notes/inner.md", b"x"), ("tiny-course/01-basics/notes", b"a file")],
    # an explicit folder entry and a file of the same name
    [("tiny-course/01-basics/notes/", None), ("tiny-course/01-basics/notes", b"a file")],
]


@pytest.mark.parametrize("kind", ["zip", "tar"])
@pytest.mark.parametrize("clash", CLASHES)
def test_a_file_and_a_folder_of_the_same_name_are_refused(
    admin_client, app, db, tmp_path, kind, clash
):
    entries = list(course_files(tmp_path).items())
    if kind == "zip":
        archive = zip_of(entries + [(n, b"" if d is None else d) for n, d in clash])
        name = "course.zip"
    else:
        archive = tar_of(entries + [(n.rstrip("/"), d) for n, d in clash])
        name = "course.tar.gz"
    response = upload(admin_client, archive, name)
    assert_refused_naming(response, "tiny-course/01-basics/notes", app, db, "file and a folder")


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_a_member_name_too_long_is_refused(admin_client, app, db, tmp_path, kind):
    entries = [*course_files(tmp_path).items(), (LONG_NAME, b"---\ntitle: T\n---\n")]
    archive = zip_of(entries) if kind == "zip" else tar_of(entries)
    response = upload(admin_client, archive, f"course.{'zip' if kind == 'zip' else 'tar.gz'}")
    assert_refused_naming(response, LONG_NAME, app, db, "too long")


def _damage_zip_member(tmp_path, member: str, compression) -> bytes:
    entries = list(course_files(tmp_path).items())
    data = zip_of(entries, compression)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    # The member's data follows its local header (30 bytes, the name, the extra field).
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    for offset in range(start + 2, start + min(info.compress_size, 12)):
        damaged[offset] ^= 0x55
    return bytes(damaged)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_zip_member_with_corrupt_data_is_refused(admin_client, app, db, tmp_path, compression):
    member = "tiny-course/01-basics/01-hello.md"
    archive = _damage_zip_member(tmp_path, member, compression)
    assert_refused_naming(upload(admin_client, archive), member, app, db, "damaged")


def test_a_tar_member_cut_short_is_refused(admin_client, app, db, tmp_path):
    files = course_files(tmp_path)
    big = "tiny-course/01-basics/zz-notes.txt"
    # Random bytes do not compress: cutting the archive in half cuts this member's data.
    entries = [*files.items(), (big, os.urandom(60_000))]
    archive = tar_of(entries)
    response = upload(admin_client, archive[: len(archive) // 2], "course.tar.gz")
    assert_refused_naming(response, big, app, db, "cut short")


def test_a_tar_whose_header_says_more_data_than_there_is_is_refused(
    admin_client, app, db, tmp_path
):
    """A well-formed gzip stream around a tar whose last member claims more bytes than follow."""
    member = "tiny-course/01-basics/zz-notes.txt"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, data in course_files(tmp_path).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(member)
        info.size = 50_000
        archive.addfile(info, io.BytesIO(b"x" * 50_000))
    cut = raw.getvalue()[: -(10_240 + 40_000)]  # drop the end blocks and most of the data
    response = upload(admin_client, gzip.compress(cut), "course.tar.gz")
    assert_refused_naming(response, member, app, db)


def test_a_tar_entry_with_a_damaged_header_is_refused(admin_client, app, db, tmp_path):
    """tarfile would quietly end the listing at a bad header after the first one."""
    raw = io.BytesIO()
    entries = list(course_files(tmp_path).items())
    offsets = {}
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, data in entries:
            offsets[name] = raw.tell()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    damaged = bytearray(raw.getvalue())
    before, after = entries[-2][0], entries[-1][0]
    damaged[offsets[after] + 148] ^= 0x01  # the header's checksum field
    response = upload(admin_client, gzip.compress(bytes(damaged)), "course.tar.gz")
    assert_refused_naming(response, f"the entry after {before}", app, db, "header is damaged")


def test_a_tar_gz_with_a_bad_checksum_is_refused(admin_client, app, db, tmp_path):
    archive = bytearray(tar_of(list(course_files(tmp_path).items())))
    archive[-6] ^= 0xFF  # inside the gzip trailer's CRC-32
    response = upload(admin_client, bytes(archive), "course.tar.gz")
    body = assert_error_shape(response, 422)
    assert any("damaged" in message for message in body["errors"]["archive"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_the_cli_names_the_damaged_member(runner, db, tmp_path):
    member = "tiny-course/01-basics/01-hello.md"
    path = tmp_path / "course.zip"
    path.write_bytes(_damage_zip_member(tmp_path / "src", member, zipfile.ZIP_STORED))
    result = runner.invoke(args=["lms", "courses", "import", str(path)])
    assert result.exit_code == 1
    assert member in result.output and "damaged" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 0


def test_the_cli_refuses_a_file_and_folder_clash(runner, db, tmp_path):
    path = tmp_path / "course.tar.gz"
    path.write_bytes(tar_of([*course_files(tmp_path / "src").items(), *CLASHES[0]]))
    result = runner.invoke(args=["lms", "courses", "import", str(path)])
    assert result.exit_code == 1
    assert "tiny-course/01-basics/notes" in result.output
