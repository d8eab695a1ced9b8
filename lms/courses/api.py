"""JSON API: the course catalog, outlines, lessons; import and publishing for admins."""

from flask import current_app
from flask_login import current_user

from lms.core.api import Blueprint, SQLAlchemyPage
from lms.core.auth import authenticated_user, login_optional, platform_admin_required
from lms.core.uploads import read_upload
from lms.courses import services
from lms.courses.schemas import (
    CourseListQuery,
    CourseOut,
    CoursePatchIn,
    ImportFiles,
    ImportOut,
    ImportQuery,
    LessonOut,
    OutlineOut,
    VersionQuery,
)

blp = Blueprint("courses_api", __name__, url_prefix="/api/v1/courses", description="Courses")


@blp.route("", methods=["GET"])
@login_optional
@blp.error_responses(403)
@blp.arguments(CourseListQuery, location="query")
@blp.response(200, CourseOut(many=True))
@blp.paginate(SQLAlchemyPage)
def list_courses(query):
    """Published courses (platform admins may ask for drafts), optionally by topic"""
    return services.catalog_query(query.get("topic"), query["status"], current_user)


def _with_outline(version):
    version.outline_modules = services.outline(version)
    return version


@blp.route("/<slug>", methods=["GET"])
@login_optional
@blp.arguments(VersionQuery, location="query")
@blp.response(200, OutlineOut)
def get_course(query, slug):
    """A course's outline: modules, lessons and quizzes, minutes, version"""
    return _with_outline(services.visible_version(slug, current_user, query.get("version")))


@blp.route("/<slug>", methods=["PATCH"])
@platform_admin_required
@blp.arguments(CoursePatchIn)
@blp.response(200, OutlineOut)
def update_course(data, slug):
    """Publish (the newest version) or unpublish a course"""
    course = services.get_course_for_admin(slug)
    services.set_published(course, data["published"])
    return _with_outline(services.visible_version(slug, authenticated_user()))


@blp.route("/<slug>/lessons/<lesson_slug>", methods=["GET"])
@login_optional
@blp.arguments(VersionQuery, location="query")
@blp.response(200, LessonOut)
def get_lesson(query, slug, lesson_slug):
    """A lesson's content, or a quiz's questions (never their answers)"""
    return services.lesson_page(slug, lesson_slug, current_user, query.get("version"))


@blp.route("/import", methods=["POST"])
@platform_admin_required
@blp.arguments(ImportQuery, location="query")
@blp.arguments(ImportFiles, location="files")
@blp.response(201, ImportOut)
@blp.alt_response(200, schema=ImportOut, description="The same content was already imported")
def import_course(query, files):
    """Import a course from a .zip or .tar.gz upload (all or nothing; same content: no change)"""
    limit = current_app.config["COURSE_ARCHIVE_MAX_BYTES"]
    data = read_upload(files["archive"], limit, "Course archives")
    result = services.import_course_archive(data, authenticated_user(), query["publish"])
    return result, 201 if result.created else 200
