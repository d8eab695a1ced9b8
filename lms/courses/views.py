"""HTML pages: the catalog, a course's outline, a lesson with previous/next, lesson files."""

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from lms.core.errors import DomainError
from lms.core.forms import EmptyForm, show_error
from lms.core.inputs import MAX_ID, query_int
from lms.core.uploads import read_upload
from lms.courses import services
from lms.courses.forms import ImportForm

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


# Platform admins: import a course archive, publish and unpublish.


def _require_platform_admin():
    if not current_user.is_platform_admin:
        abort(403)


def _admin_page(form=None, status=200, problems=None):
    return render_template(
        "courses/admin.html",
        rows=services.admin_courses(current_user),
        form=form or ImportForm(formdata=None),
        button_form=EmptyForm(formdata=None),
        problems=problems or [],
    ), status


@bp.get("/admin/courses")
@login_required
def admin_courses():
    """Platform admins: every course, its newest and published versions, and the import form."""
    _require_platform_admin()
    return _admin_page()


@bp.post("/admin/courses/import")
@login_required
def import_course():
    """Import an uploaded course archive (all or nothing), as a draft or published."""
    _require_platform_admin()
    form = ImportForm()
    if not form.validate_on_submit():
        return _admin_page(form, 422)
    try:
        data = read_upload(
            form.archive.data, current_app.config["COURSE_ARCHIVE_MAX_BYTES"], "Course archives"
        )
        result = services.import_course_archive(data, current_user, form.publish.data)
    except DomainError as exc:
        status = show_error(form, exc)
        return _admin_page(form, status, (exc.errors or {}).get("problems"))
    version = result.version
    if not result.created:
        flash(f"{version.title} {version.label} was already imported: nothing changed.", "info")
    elif version.is_published:
        flash(f"{version.title} {version.label} is imported and published.", "success")
    else:
        flash(f"{version.title} {version.label} is imported as a draft.", "success")
    return redirect(url_for("courses.admin_courses"))


@bp.post("/admin/courses/<slug>/publish")
@login_required
def publish_course(slug: str):
    """Publish the course's newest version (published=1) or take it out of the catalog."""
    _require_platform_admin()
    published = request.form.get("published") == "1"
    if EmptyForm().validate_on_submit():
        course = services.get_course_for_admin(slug)
        try:
            version = services.set_published(course, published)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            if version is not None:
                flash(f"{version.title} {version.label} is published.", "success")
            else:
                flash(f"{slug} is unpublished: it left the catalog; nothing is deleted.", "success")
    return redirect(url_for("courses.admin_courses"))
