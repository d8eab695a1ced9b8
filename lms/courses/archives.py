"""Unpacking uploaded course archives (.zip, .tar.gz) without trusting them.

Every member is checked before anything is written: absolute paths, ``..``, symlinks, hard links
and device files reject the whole archive, as do too many files or too many unpacked bytes
(a zip bomb). Files are then written one by one below the destination, never with
``extractall``.
"""

import io
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lms.core.errors import RuleViolation

MAX_MEMBERS = 5000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


@dataclass
class Member:
    name: str
    size: int
    is_dir: bool
    open: object  # callable returning a binary file object


def _check_name(name: str, problems: list[str]) -> str | None:
    clean = name.replace("\\", "/")
    path = PurePosixPath(clean)
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        problems.append(f"{name}: absolute paths are not allowed")
        return None
    if ".." in path.parts:
        problems.append(f"{name}: '..' is not allowed in paths")
        return None
    parts = [p for p in path.parts if p not in ("", ".")]
    return "/".join(parts) or None


def _zip_members(data: bytes, problems: list[str]) -> list[Member]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    members = []
    for info in archive.infolist():
        name = _check_name(info.filename, problems)
        mode = info.external_attr >> 16
        # Many tools record permissions without a file type; only a recorded type is judged.
        if stat.S_ISLNK(mode):
            problems.append(f"{info.filename}: symbolic links are not allowed")
            continue
        if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            problems.append(f"{info.filename}: only files and folders are allowed")
            continue
        if name:
            members.append(
                Member(name, info.file_size, info.is_dir(), lambda i=info: archive.open(i))
            )
    return members


def _tar_members(data: bytes, problems: list[str]) -> list[Member]:
    archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    members = []
    for info in archive.getmembers():
        name = _check_name(info.name, problems)
        if info.issym() or info.islnk():
            problems.append(f"{info.name}: links are not allowed")
            continue
        if not (info.isfile() or info.isdir()):
            problems.append(f"{info.name}: only files and folders are allowed")
            continue
        if name:
            members.append(
                Member(name, info.size, info.isdir(), lambda i=info: archive.extractfile(i))
            )
    return members


def unpack(data: bytes, destination: Path) -> Path:
    """Unpack a course archive into ``destination``; returns the folder with course.yaml."""
    problems: list[str] = []
    try:
        if data[:4] == b"PK\x03\x04":
            members = _zip_members(data, problems)
        elif data[:2] == b"\x1f\x8b":
            members = _tar_members(data, problems)
        else:
            raise RuleViolation("Upload a .zip or .tar.gz archive of the course folder.")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise RuleViolation(f"The archive cannot be read: {exc}") from None
    if len(members) > MAX_MEMBERS:
        problems.append(f"the archive has more than {MAX_MEMBERS} entries")
    if sum(m.size for m in members) > MAX_UNPACKED_BYTES:
        problems.append(f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
    if problems:
        raise RuleViolation("The archive is not acceptable.", errors={"archive": problems})

    root = destination.resolve()
    written = 0
    for member in members:
        target = (root / member.name).resolve()
        if not target.is_relative_to(root):  # belt and braces after the name checks
            raise RuleViolation("The archive is not acceptable.", errors={"archive": [member.name]})
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with member.open() as source, target.open("wb") as sink:
            written = _copy_limited(source, sink, written)
    return find_course_root(root)


def _copy_limited(source, sink, written: int) -> int:
    """Copy in chunks, counting real bytes: a member's declared size can lie."""
    while chunk := source.read(1024 * 1024):
        written += len(chunk)
        if written > MAX_UNPACKED_BYTES:
            raise RuleViolation(
                f"The archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB."
            )
        sink.write(chunk)
    return written


def find_course_root(root: Path) -> Path:
    if (root / "course.yaml").is_file():
        return root
    candidates = [p for p in root.iterdir() if p.is_dir() and (p / "course.yaml").is_file()]
    if len(candidates) == 1:
        return candidates[0]
    raise RuleViolation(
        "The archive has no course.yaml at its top or in a single top-level folder.",
        errors={"archive": ["course.yaml not found"]},
    )
