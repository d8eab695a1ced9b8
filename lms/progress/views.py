"""HTML pages: the learner dashboard, enrolling, lesson progress and quizzes, and the
organization report with its CSV export and completions chart."""

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from marshmallow import ValidationError

from lms.core.errors import DomainError, Forbidden, RuleViolation
from lms.core.extensions import db
from lms.core.forms import EmptyForm
from lms.core.inputs import MAX_PAGE, query_int
from lms.courses import services as courses
from lms.courses.models import Course
from lms.memberships import services as memberships
from lms.progress import reports, services
from lms.progress.models import Enrollment
from lms.progress.schemas import ReportQuery

bp = Blueprint("progress", __name__, template_folder="templates")

REPORT_PAGE_SIZE = 50


@bp.get("/dashboard")
@login_required
def dashboard():
    rows = services.my_enrollments(current_user)
    return render_template(
        "progress/dashboard.html",
        active=[r for r in rows if r.enrollment.status == "active"],
        completed=[r for r in rows if r.enrollment.status == "completed"],
        form=EmptyForm(formdata=None),
    )


@bp.post("/courses/<slug>/enroll")
@login_required
def enroll(slug: str):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("courses.course", slug=slug))
    try:
        enrollment, _ = services.enroll(current_user, slug, request.form.get("organization"))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("courses.course", slug=slug))
    row = services.get_enrollment_row(current_user, enrollment.id)
    return redirect(
        url_for("progress.learn", enrollment_id=enrollment.id, lesson_slug=row.resume_slug)
    )


def _lesson_context(enrollment_id: int, lesson_slug: str):
    row = services.get_enrollment_row(current_user, enrollment_id)
    version = row.enrollment.version_id
    page = courses.lesson_page(row.course_slug, lesson_slug, None, None, version_id=version)
    state = services.lesson_states(row.enrollment).get(page.lesson.id)
    return row, page, state


@bp.get("/learn/<id:enrollment_id>/<lesson_slug>")
@login_required
def learn(enrollment_id: int, lesson_slug: str):
    """A lesson inside an enrollment: the content of the enrollment's own version. Without a
    seat it stays readable, with the reason in place of the buttons that write progress."""
    row, page, state = _lesson_context(enrollment_id, lesson_slug)
    seat_problem = services.seat_problem(current_user, row.enrollment)
    if state is None and seat_problem is None:
        services.mark_lesson(current_user, enrollment_id, lesson_slug, "viewed")
    return render_template(
        "progress/learn.html",
        row=row,
        page=page,
        state=state,
        form=EmptyForm(formdata=None),
        result=None,
        seat_problem=seat_problem,
    )


@bp.post("/learn/<id:enrollment_id>/<lesson_slug>/complete")
@login_required
def complete(enrollment_id: int, lesson_slug: str):
    if EmptyForm().validate_on_submit():
        try:
            result = services.mark_lesson(current_user, enrollment_id, lesson_slug, "completed")
        except Forbidden:
            # No seat: nothing was written (it is checked first); the lesson page says why.
            return redirect(
                url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug)
            )
        if result.just_completed_course:
            flash("You completed the course. Well done!", "success")
        row = services.get_enrollment_row(current_user, enrollment_id)
        if row.resume_slug and row.resume_slug != lesson_slug:
            return redirect(
                url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=row.resume_slug)
            )
    return redirect(url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug))


@bp.post("/learn/<id:enrollment_id>/<lesson_slug>/attempt")
@login_required
def submit_quiz(enrollment_id: int, lesson_slug: str):
    row, page, state = _lesson_context(enrollment_id, lesson_slug)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(
            url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug)
        )
    answers = {q["id"]: request.form.getlist(q["id"]) for q in page.questions}
    answers = {qid: chosen for qid, chosen in answers.items() if chosen}
    try:
        result = services.submit_attempt(current_user, enrollment_id, lesson_slug, answers)
    except DomainError as exc:
        seat_problem = services.seat_problem(current_user, row.enrollment)
        if seat_problem is None:  # otherwise the page says why, once, instead of the form
            message = exc.message
            if exc.errors and "answers" in exc.errors:
                message = "Answer every question before submitting."
            form.form_errors.append(message)
        return render_template(
            "progress/learn.html",
            row=row,
            page=page,
            state=state,
            form=form,
            result=None,
            given=answers,
            seat_problem=seat_problem,
        ), exc.code
    if result.progress.just_completed_course:
        flash("You completed the course. Well done!", "success")
    return render_template(
        "progress/learn.html",
        row=row,
        page=page,
        state=state,
        form=EmptyForm(formdata=None),
        result=result,
        given=answers,
    ), 201


@bp.get("/organizations/<slug>/report")
@login_required
def report(slug: str):
    organization = memberships.get_organization(slug, current_user, admin=True)
    # The API's query schema checks the filters; the page sorts by name unless told otherwise.
    # (The form sends empty fields for "all"; they are no filter.)
    args = {key: value for key, value in request.args.items() if value}
    args.setdefault("sort", "name")
    try:
        filters = ReportQuery().load(args)
    except ValidationError as exc:
        raise RuleViolation("Some report filters are not valid.", errors=exc.messages) from None
    export = filters.pop("format") == "csv"
    report_ = reports.report_query(organization, **filters)
    if export:
        return reports.csv_response(report_, f"{slug}-progress.csv")
    page = query_int("page", 1, maximum=MAX_PAGE)
    rows = (
        db.session.execute(
            report_.rows_statement(REPORT_PAGE_SIZE + 1, (page - 1) * REPORT_PAGE_SIZE)
        )
        .mappings()
        .all()
    )
    course_choices = db.session.scalars(
        db.select(Course.slug)
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.organization_id == organization.id)
        .distinct()
    ).all()
    weeks = reports.completions_per_week(organization)
    return render_template(
        "progress/report.html",
        organization=organization,
        rows=rows[:REPORT_PAGE_SIZE],
        has_next=len(rows) > REPORT_PAGE_SIZE,
        page=page,
        filters=filters,
        active_filters={key: value for key, value in filters.items() if value},
        course_choices=sorted(course_choices),
        summary=reports.summary(organization),
        weeks=weeks,
        week_max=max([count for _, count in weeks] + [1]),
    )
