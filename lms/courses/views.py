"""HTML pages: the catalog, a course's outline, a lesson with previous/next, lesson files."""

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from lms.core.inputs import MAX_ID, query_int
from lms.courses import services

bp = Blueprint("courses", __name__, template_folder="templates")


def _no_certificate(user, course_id: int) -> None:
    return None


# The links of the learner's certificate for a course (``CertificateLinks``) or None: plugged
# in by the certificates package when the app starts (courses may not import later packages).
learner_certificate: Callable[..., object | None] = _no_certificate


def _version() -> int | None:
    """?version= as the API reads it (admins preview drafts): a whole number up to 2^31-1."""
    return query_int("version", None, maximum=MAX_ID)


@bp.get("/courses")
def catalog():
    topic = request.args.get("topic") or None
    page = services.catalog_page(topic)
    return render_template(
        "courses/catalog.html", versions=page.versions, topic=topic, topics=page.topics
    )


@bp.get("/courses/<slug>")
def course(slug: str):
    version = services.visible_version(slug, current_user, _version())
    certificate = (
        learner_certificate(current_user, version.course_id)
        if current_user.is_authenticated
        else None
    )
    return render_template(
        "courses/course.html",
        version=version,
        modules=services.outline(version),
        certificate=certificate,
    )


@bp.get("/courses/<slug>/lessons/<lesson_slug>")
def lesson(slug: str, lesson_slug: str):
    page = services.lesson_page(slug, lesson_slug, current_user, _version())
    return render_template("courses/lesson.html", page=page)


@bp.get("/courses/<slug>/assets/<name>")
def asset(slug: str, name: str):
    sha256 = name.partition(".")[0]  # "<sha256>.<ext>": the extension is for people
    stored = services.get_asset(slug, sha256, current_user)
    response = Response(stored.data, mimetype=stored.media_type)
    # Content-addressed: the bytes behind this URL never change.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    # An SVG (or any file) opened directly must not run scripts on our origin, nor act as it:
    # no scripts, and a sandbox gives the document a unique origin (no cookies, no forms).
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
