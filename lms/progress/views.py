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
from lms.core.forms import EmptyForm
from lms.core.inputs import MAX_PAGE, query_int
from lms.core.responses import csv_download
from lms.memberships import services as memberships
from lms.progress import dashboard as reads
from lms.progress import enrolling, lesson_progress, quizzes, reports
from lms.progress.schemas import ReportQuery

bp = Blueprint("progress", __name__, template_folder="templates")


@bp.get("/dashboard")
@login_required
def dashboard():
    rows = reads.my_enrollments(current_user)
    return render_template(
        "progress/dashboard.html",
        active=[r for r in rows if r.status == "active"],
        completed=[r for r in rows if r.status == "completed"],
        form=EmptyForm(formdata=None),
    )


@bp.post("/courses/<slug>/enroll")
@login_required
def enroll(slug: str):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("courses.course", slug=slug))
    try:
        enrollment, created = enrolling.enroll(current_user, slug, request.form.get("organization"))
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("courses.course", slug=slug))
    row = reads.get_enrollment_row(current_user, enrollment.id)
    if created:
        flash(f"You are enrolled in {row.title}. Here is the first lesson.", "success")
    else:
        flash(f"Welcome back to {row.title}: you continue where you left off.", "info")
    return redirect(
        url_for("progress.learn", enrollment_id=enrollment.id, lesson_slug=row.resume_slug)
    )


QUESTION_PROBLEM = "Choose an answer to this question."


def _learn_page(
    lesson: reads.LessonInEnrollment,
    *,
    form=None,
    result=None,
    given=None,
    status=200,
    question_errors=None,
):
    """The one render of a lesson inside an enrollment (the lesson page, a graded quiz, an
    attempt that was refused)."""
    return render_template(
        "progress/learn.html",
        row=lesson.row,
        page=lesson.page,
        state=lesson.state,
        seat_problem=lesson.seat_problem,
        form=form if form is not None else EmptyForm(formdata=None),
        result=result,
        given=given,
        question_errors=question_errors or {},
        # The attempt this form submits: after a graded attempt, the one after it.
        attempt_number=(result.attempt.number if result else lesson.attempts_used) + 1,
    ), status


@bp.get("/learn/<id:enrollment_id>/<lesson_slug>")
@login_required
def learn(enrollment_id: int, lesson_slug: str):
    """A lesson inside an enrollment: the content of the enrollment's own version. Without a
    seat it stays readable, with the reason in place of the buttons that write progress."""
    return _learn_page(reads.open_lesson(current_user, enrollment_id, lesson_slug))


@bp.post("/learn/<id:enrollment_id>/<lesson_slug>/complete")
@login_required
def complete(enrollment_id: int, lesson_slug: str):
    if EmptyForm().validate_on_submit():
        try:
            result = lesson_progress.mark_lesson(
                current_user, enrollment_id, lesson_slug, "completed"
            )
        except Forbidden:
            # No seat: nothing was written (it is checked first); the lesson page says why.
            return redirect(
                url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug)
            )
        if result.just_completed_course:
            flash("You completed the course. Well done! Your certificate is ready.", "success")
        else:
            flash("Lesson marked as complete.", "success")
        row = reads.get_enrollment_row(current_user, enrollment_id)
        if row.resume_slug and row.resume_slug != lesson_slug:
            return redirect(
                url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=row.resume_slug)
            )
    return redirect(url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug))


def _attempt_number() -> int | None:
    """The attempt the quiz form was shown for (a hidden field): the same form sent twice is
    graded once."""
    value = request.form.get("attempt_number", "")
    return int(value) if value.isdigit() and len(value) < 6 else None


@bp.post("/learn/<id:enrollment_id>/<lesson_slug>/attempt")
@login_required
def submit_quiz(enrollment_id: int, lesson_slug: str):
    lesson = reads.lesson_in_enrollment(current_user, enrollment_id, lesson_slug)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(
            url_for("progress.learn", enrollment_id=enrollment_id, lesson_slug=lesson_slug)
        )
    answers = {q["id"]: request.form.getlist(q["id"]) for q in lesson.page.questions}
    answers = {qid: chosen for qid, chosen in answers.items() if chosen}
    try:
        result = quizzes.submit_attempt(
            current_user,
            enrollment_id,
            lesson_slug,
            answers,
            attempt_number=_attempt_number(),
        )
    except DomainError as exc:
        question_errors = {}
        if lesson.seat_problem is None:  # otherwise the page says why, once, instead of the form
            message = exc.message
            if exc.errors and "answers" in exc.errors:
                message = "Answer every question before submitting."
                problems = exc.errors["answers"]
                if isinstance(problems, dict):
                    question_errors = {qid: QUESTION_PROBLEM for qid in problems}
            form.form_errors.append(message)
        return _learn_page(
            lesson, form=form, given=answers, status=exc.code, question_errors=question_errors
        )
    if result.progress.just_completed_course:
        flash("You completed the course. Well done!", "success")
    return _learn_page(lesson, result=result, given=answers, status=201)


def _report_filters() -> dict:
    """The report's filters from the query string, checked by the API's query schema; the
    page sorts by name unless told otherwise. (The form sends empty fields for "all"; they
    are no filter.)"""
    args = {key: value for key, value in request.args.items() if value}
    args.setdefault("sort", "name")
    try:
        return ReportQuery().load(args)
    except ValidationError as exc:
        raise RuleViolation("Some report filters are not valid.", errors=exc.messages) from None


@bp.get("/organizations/<slug>/report")
@login_required
def report(slug: str):
    organization = memberships.get_organization(slug, current_user, admin=True)
    filters = _report_filters()
    if filters.pop("format") == "csv":
        report_ = reports.report_query(organization, **filters)
        return csv_download(reports.csv_lines(report_), f"{slug}-progress.csv")
    number = query_int("page", 1, maximum=MAX_PAGE)
    return render_template(
        "progress/report.html",
        organization=organization,
        report=reports.report_page(organization, number, **filters),
        filters=filters,
        active_filters={key: value for key, value in filters.items() if value},
    )
