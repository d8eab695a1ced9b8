"""Lesson links and images: a link to another lesson becomes its page's URL, a link or image
to a file in the course folder becomes a content-addressed asset URL, and anything that
leaves the course or does not exist is a problem at its line."""

import hashlib
import mimetypes
import posixpath
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from lms.courses.loader.folder import FolderReader
from lms.courses.loader.specs import AssetSpec, LessonSpec
from lms.courses.rendering import render_markdown

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"}
DOWNLOAD_TYPES = {".pdf", ".csv", ".txt", ".zip", ".ipynb", ".py", ".r", ".json"}
MAX_ASSET_BYTES = 5 * 1024 * 1024


class LessonLinks(FolderReader):
    def __init__(self, root: Path):
        super().__init__(root)
        self.assets: dict[str, AssetSpec] = {}
        self.course_slug = "course"

    def resolve(self, lesson: LessonSpec, url: str) -> tuple[str | None, str]:
        """The course-relative path a relative URL points to (None if it leaves the course)."""
        parts = urlsplit(url)
        base = posixpath.dirname(lesson.source_path)
        target = posixpath.normpath(posixpath.join(base, unquote(parts.path)))
        if target.startswith("../") or target == ".." or PurePosixPath(target).is_absolute():
            return None, parts.fragment
        return target, parts.fragment

    def render_lesson(self, lesson: LessonSpec, body: str, first_line: int, index) -> str:
        """The lesson's HTML; ``index`` maps a lesson file's path to its slug."""
        rel = lesson.source_path

        def rewrite_link(url: str, line: int) -> str | None:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "mailto") or url.startswith("#"):
                return url
            if parts.scheme or url.startswith("/"):
                self.problem(rel, line, f"link '{url}': use a relative path or an http(s) URL")
                return None
            target, fragment = self.resolve(lesson, url)
            if target in index:
                suffix = f"#{fragment}" if fragment else ""
                return f"/courses/{self.course_slug}/lessons/{index[target]}{suffix}"
            if target and PurePosixPath(target).suffix.lower() in DOWNLOAD_TYPES | IMAGE_TYPES:
                asset = self.asset(target, rel, line)
                return asset
            self.problem(rel, line, f"link to a lesson that does not exist: {url}")
            return None

        def rewrite_image(url: str, line: int) -> str | None:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("/"):
                self.problem(rel, line, f"image '{url}': images are files in the course folder")
                return None
            target, _ = self.resolve(lesson, url)
            if target is None or PurePosixPath(target).suffix.lower() not in IMAGE_TYPES:
                self.problem(rel, line, f"image '{url}' is missing or not a supported image")
                return None
            return self.asset(target, rel, line)

        return render_markdown(
            body, first_line=first_line, rewrite_link=rewrite_link, rewrite_image=rewrite_image
        )

    def asset(self, target: str, rel: str, line: int) -> str | None:
        path = self.root / target
        # Resolve links anywhere on the path: a linked folder must not reach outside the course.
        inside = path.resolve().is_relative_to(self.root.resolve())
        if not inside or not path.is_file():
            self.problem(rel, line, f"the file '{target}' is missing")
            return None
        if target not in self.assets:
            data = self.read_bytes(path)
            if len(data) > MAX_ASSET_BYTES:
                self.problem(target, None, "files used by lessons are limited to 5 MB")
                return None
            media_type = mimetypes.guess_type(target)[0] or "application/octet-stream"
            digest = hashlib.sha256(data).hexdigest()
            self.assets[target] = AssetSpec(target, digest, media_type, data)
        asset = self.assets[target]
        suffix = PurePosixPath(target).suffix.lower()
        return f"/courses/{self.course_slug}/assets/{asset.sha256}{suffix}"
