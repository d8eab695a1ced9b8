"""JSON API: enrollments, lesson progress, quiz attempts; organization reports."""

from lms.core.api import Blueprint, SQLAlchemyPage, csv_format
from lms.core.auth import authenticated_user, login_required
from lms.core.responses import csv_download
from lms.memberships import services as memberships
from lms.progress import dashboard, enrolling, lesson_progress, quizzes, reports
from lms.progress.schemas import (
    AttemptIn,
    AttemptOut,
    EnrollIn,
    EnrollmentDetailOut,
    EnrollmentOut,
    ProgressIn,
    ProgressOut,
    ReportQuery,
    ReportRowOut,
    SummaryOut,
)
from lms.progress.upgrade import upgrade as upgrade_enrollment

blp = Blueprint("progress_api", __name__, url_prefix="/api/v1", description="Progress")


@blp.route("/enrollments", methods=["POST"])
@login_required
@blp.links(201, getEnrollment=("getEnrollment", {"enrollment_id": "$response.body#/id"}))
@blp.error_responses(403, 404)
@blp.arguments(EnrollIn)
@blp.response(201, EnrollmentOut)
@blp.alt_response(200, schema=EnrollmentOut, description="Already enrolled: the enrollment")
def enroll(data):
    """Enroll in a course (needs a seat); enrolling again returns the existing enrollment"""
    user = authenticated_user()
    enrollment, created = enrolling.enroll(user, data["course"], data.get("organization"))
    return dashboard.get_enrollment_row(user, enrollment.id), 201 if created else 200


@blp.route("/enrollments", methods=["GET"], operation_id="listMyEnrollments")
@login_required
@blp.response(200, EnrollmentOut(many=True))
def my_enrollments():
    """My enrollments with percent complete and the lesson to resume"""
    return dashboard.my_enrollments(authenticated_user())


@blp.route("/enrollments/<id:enrollment_id>", methods=["GET"])
@login_required
@blp.response(200, EnrollmentDetailOut)
def get_enrollment(enrollment_id):
    """One of my enrollments, with the state of every lesson"""
    return dashboard.enrollment_detail(authenticated_user(), enrollment_id)


@blp.route(
    "/enrollments/<id:enrollment_id>/upgrade", methods=["POST"], operation_id="upgradeEnrollment"
)
@login_required
@blp.error_responses(403, 409)
@blp.response(200, EnrollmentOut)
def upgrade(enrollment_id):
    """Move to the newest published version, keeping progress on lessons that still exist"""
    return upgrade_enrollment(authenticated_user(), enrollment_id)


@blp.route(
    "/enrollments/<id:enrollment_id>/lessons/<lesson_slug>/progress",
    methods=["PUT"],
    operation_id="recordLessonProgress",
)
@login_required
@blp.error_responses(403)
@blp.arguments(ProgressIn)
@blp.response(200, ProgressOut)
def put_progress(data, enrollment_id, lesson_slug):
    """Record a lesson as viewed or completed (idempotent; the first completion time is kept)"""
    return lesson_progress.mark_lesson(
        authenticated_user(),
        enrollment_id,
        lesson_slug,
        data["status"],
        data["time_spent_seconds"],
    )


@blp.route("/enrollments/<id:enrollment_id>/lessons/<lesson_slug>/attempts", methods=["POST"])
@login_required
@blp.error_responses(403, 409)
@blp.arguments(AttemptIn)
@blp.response(201, AttemptOut)
def submit_attempt(data, enrollment_id, lesson_slug):
    """Submit quiz answers: graded on the server, with explanations"""
    return quizzes.submit_attempt(authenticated_user(), enrollment_id, lesson_slug, data["answers"])


def _report(query, slug) -> reports.Report:
    organization = memberships.get_organization(slug, authenticated_user(), admin=True)
    return reports.report_query(organization, **query)


def _report_csv(query, slug):
    return csv_download(reports.csv_lines(_report(query, slug)), f"{slug}-progress.csv")


@blp.route("/organizations/<slug>/report", methods=["GET"], operation_id="getReport")
@login_required
@blp.error_responses(403)
@blp.also_csv()
@blp.arguments(ReportQuery, location="query")
@blp.response(200, ReportRowOut(many=True))
@csv_format(_report_csv)
@blp.paginate(SQLAlchemyPage)
def report(query, slug):
    """Per-learner, per-course progress (filters, sorting, pages); ?format=csv: everything"""
    return _report(query, slug)


@blp.route("/organizations/<slug>/report/summary", methods=["GET"], operation_id="getReportSummary")
@login_required
@blp.error_responses(403)
@blp.response(200, SummaryOut)
def report_summary(slug):
    """Per course: enrolled, in progress, completed, completion rate, median days"""
    organization = memberships.get_organization(slug, authenticated_user(), admin=True)
    return {"organization": organization.slug, "courses": reports.summary(organization)}
