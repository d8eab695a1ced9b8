"""Unpacking uploaded course archives (.zip, .tar.gz) without trusting them.

Every member is checked before anything is written: absolute paths, ``..``, symlinks, hard links
and device files reject the whole archive, as do names no file system can hold, a file and a
folder of the same name, too many files or too many unpacked bytes (a zip bomb), and a .tar.gz
whose compressed stream is cut short or fails its checksum. Files are then written one by one
below the destination, never with ``extractall``; a member whose data turns out to be damaged
(a zip member's CRC) stops the import. Every refusal is a ``RuleViolation`` that names the
member; the caller removes the destination folder, so nothing is left half-unpacked.
"""

import io
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lms.core.errors import RuleViolation

MAX_MEMBERS = 5000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# File systems hold names of up to 255 bytes per path component; lessons record their path
# (``Lesson.source_path``, 300 characters) below the course folder.
MAX_NAME_PART_BYTES = 255
MAX_NAME_CHARS = 255
CHUNK = 1024 * 1024
# What reading damaged compressed data raises: zipfile's CRC check (BadZipFile), tarfile,
# gzip's length and CRC checks (EOFError, BadGzipFile, an OSError), zlib itself. Reading
# happens in memory, so an OSError here is the data's fault, never the disk's.
DAMAGED_DATA = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError)
SUPPORTED_ZIP_COMPRESSION = {
    zipfile.ZIP_STORED,
    zipfile.ZIP_DEFLATED,
    zipfile.ZIP_BZIP2,
    zipfile.ZIP_LZMA,
}


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
    clean = "/".join(parts)
    try:
        longest_part = max((len(p.encode("utf-8")) for p in parts), default=0)
    except UnicodeEncodeError:  # tar keeps undecodable bytes as surrogates
        problems.append(f"{name!r}: the name is not UTF-8")
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in clean):
        problems.append(f"{name!r}: control characters are not allowed in names")
        return None
    if longest_part > MAX_NAME_PART_BYTES or len(clean) > MAX_NAME_CHARS:
        problems.append(
            f"{name}: the name is too long (at most {MAX_NAME_CHARS} characters, "
            f"and {MAX_NAME_PART_BYTES} bytes between slashes)"
        )
        return None
    return clean or None


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
        if info.flag_bits & 0x1:
            problems.append(f"{info.filename}: encrypted files are not allowed")
            continue
        if info.compress_type not in SUPPORTED_ZIP_COMPRESSION:
            problems.append(f"{info.filename}: the compression method is not supported")
            continue
        if name:
            members.append(
                Member(name, info.file_size, info.is_dir(), lambda i=info: archive.open(i))
            )
    return members


def _tar_members(data: bytes, problems: list[str]) -> list[Member]:
    archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    members = []
    last, declared = None, 0
    try:
        # One by one rather than getmembers(), to name the entry where the data breaks off.
        while (info := archive.next()) is not None:
            last = info.name
            declared += info.size
            if declared > MAX_UNPACKED_BYTES:  # before decompressing all of it to list it
                problems.append(
                    f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB"
                )
                return members
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
    except DAMAGED_DATA as exc:
        where = f"{last}: the data is cut short or damaged in or after this entry"
        problems.append(f"{where if last else 'the archive is cut short or damaged'} ({exc})")
        return members
    _check_tar_end(archive, last, problems)
    return members


def _check_tar_end(archive: tarfile.TarFile, last: str | None, problems: list[str]) -> None:
    """What follows the last entry must be the end of the archive, and the compressed stream
    must end whole: tarfile stops listing quietly at a damaged header after the first, and
    gzip checks its length and CRC only at the very end, which listing never reads."""
    stream = archive.fileobj
    try:
        stream.seek(archive.offset)
        if stream.read(tarfile.BLOCKSIZE).strip(b"\0"):
            problems.append(f"the entry after {last}: its header is damaged")
            return
        read = archive.offset
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            # Headers and padding come on top of the files' bytes; endless zeros do not.
            if read > 2 * MAX_UNPACKED_BYTES:
                problems.append(
                    f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB"
                )
                return
    except DAMAGED_DATA as exc:
        problems.append(f"the archive is cut short or damaged ({exc})")


def _check_layout(members: list[Member], problems: list[str]) -> None:
    """One path, one thing: a file may not also be a folder (or a second file)."""
    files: set[str] = set()
    folders: set[str] = set()
    for member in members:
        parts = member.name.split("/")
        folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
        if member.is_dir:
            folders.add(member.name)
        elif member.name in files:
            problems.append(f"{member.name}: the archive holds this file twice")
        else:
            files.add(member.name)
    for name in sorted(files & folders):
        problems.append(f"{name}: the archive has a file and a folder of this name")


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
    except DAMAGED_DATA as exc:
        raise RuleViolation(f"The archive cannot be read: {exc}") from None
    if len(members) > MAX_MEMBERS:
        problems.append(f"the archive has more than {MAX_MEMBERS} entries")
    if sum(m.size for m in members) > MAX_UNPACKED_BYTES:
        problems.append(f"the archive unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
    _check_layout(members, problems)
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
        with target.open("wb") as sink:
            written = _copy_limited(_read(member), sink, written)
    return find_course_root(root)


def _read(member: Member) -> Iterator[bytes]:
    """The member's data in chunks; damaged data is a 422 that names the member. (Only the
    reading is guarded: an error writing to our own disk stays a server error.)"""
    try:
        with member.open() as source:
            while chunk := source.read(CHUNK):
                yield chunk
    except DAMAGED_DATA as exc:
        raise RuleViolation(
            "The archive is not acceptable.",
            errors={"archive": [f"{member.name}: the data is damaged or cut short ({exc})"]},
        ) from None


def _copy_limited(chunks: Iterator[bytes], sink, written: int) -> int:
    """Copy, counting real bytes: a member's declared size can lie."""
    for chunk in chunks:
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
