from datetime import datetime

from marshmallow import fields, validate

from lms.core.api import InputSchema, OutputSchema, QuerySchema
from lms.core.fields import Line, UtcDateTime, slug


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


SLUG = slug("Use a course slug.")


class EnrollIn(InputSchema):
    course = fields.String(required=True, validate=[validate.Length(max=100), SLUG])
    organization = fields.String(
        validate=validate.Length(max=60),
        metadata={"description": "needed only when you hold seats in several organizations"},
    )


class NextLessonOut(OutputSchema):
    slug = fields.String()
    title = fields.String()


class EnrollmentCertificateOut(OutputSchema):
    code = fields.String(metadata={"description": "ABCD-EFGH-JKMN-PQRS"})
    pdf_url = fields.String()
    verify_url = fields.String(metadata={"description": "the public verification page"})


class EnrollmentOut(OutputSchema):
    id = fields.Integer()
    course = fields.String(attribute="course_slug")
    title = fields.String()
    version = fields.String()
    version_number = fields.Integer()
    newer_version = fields.String(
        allow_none=True, metadata={"description": "a newer published version you may move to"}
    )
    status = fields.String()
    percent_complete = fields.Integer()
    lessons_done = fields.Integer()
    quizzes_passed = fields.Integer()
    required_done = fields.Integer()
    required_total = fields.Integer()
    started_at = fields.AwareDateTime()
    last_activity_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    next_lesson = fields.Nested(
        NextLessonOut, allow_none=True, metadata={"description": "null once completed"}
    )
    certificate = fields.Nested(
        EnrollmentCertificateOut,
        allow_none=True,
        metadata={"description": "the current certificate; null until one is issued"},
    )


class LessonStateOut(OutputSchema):
    slug = fields.String()
    title = fields.String()
    kind = fields.String()
    required = fields.Boolean()
    status = fields.String(metadata={"description": "not_started, viewed or completed"})
    completed_at = fields.AwareDateTime(allow_none=True)
    best_score = fields.Integer(allow_none=True)


class EnrollmentDetailOut(EnrollmentOut):
    lessons = fields.List(fields.Nested(LessonStateOut), attribute="lessons")


class ProgressIn(InputSchema):
    status = fields.String(required=True, validate=validate.OneOf(["viewed", "completed"]))
    time_spent_seconds = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=86_400),
        metadata={"description": "total seconds spent on the lesson so far (the largest counts)"},
    )


class ProgressOut(OutputSchema):
    enrollment_id = fields.Integer()
    lesson = fields.String(attribute="lesson_slug")
    status = fields.String()
    completed_at = fields.AwareDateTime(allow_none=True)
    enrollment_status = fields.String()
    percent_complete = fields.Integer()
    changed = fields.Boolean(metadata={"description": "false when this repeated a known state"})


class AttemptIn(InputSchema):
    # Raw: the grading service checks the shape against the quiz and says what is wrong
    # per question (422).
    answers = fields.Raw(
        required=True,
        metadata={
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": 'question id -> list of choice ids: {"q1": ["b"]}',
        },
    )


class QuestionResultOut(OutputSchema):
    id = fields.String()
    correct = fields.Boolean()
    your_answer = fields.List(fields.String())
    correct_answer = fields.List(fields.String(), allow_none=True)
    explanation_html = fields.String()


class AttemptOut(OutputSchema):
    attempt = fields.Integer(attribute="attempt.number")
    score = fields.Integer(attribute="attempt.score")
    passed = fields.Boolean(attribute="attempt.passed")
    pass_mark = fields.Integer()
    attempts_left = fields.Integer(allow_none=True)
    best_score = fields.Integer()
    enrollment_status = fields.String(attribute="progress.enrollment_status")
    percent_complete = fields.Integer(attribute="progress.percent_complete")
    questions = fields.List(fields.Nested(QuestionResultOut))


REPORT_SORTS = [
    "enrolled", "name", "email", "course", "percent", "started", "last_activity", "completed",
]  # fmt: skip


class ReportQuery(QuerySchema):
    course = fields.String(validate=[validate.Length(max=100), SLUG])
    status = fields.String(validate=validate.OneOf(["in_progress", "completed"]))
    search = Line(max_length=200)
    active_since = UtcDateTime()
    certificate = fields.String(
        validate=validate.OneOf(["issued", "none"]),
        metadata={"description": "issued: learners holding a certificate; none: the others"},
    )
    sort = fields.String(
        load_default="enrolled",
        validate=validate.OneOf(REPORT_SORTS + [f"-{s}" for s in REPORT_SORTS]),
        metadata={"description": "a column; prefix with - for descending"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class ReportRowOut(OutputSchema):
    """One report row. The fields document the API; ``dump`` writes the plain values of the
    row directly, because marshmallow's per-field machinery was a fifth of a 50-row page
    (tests/progress/test_reports.py checks both give the same JSON)."""

    def dump(self, obj, *, many=None):
        many = self.many if many is None else many
        names = tuple(self.dump_fields)
        rows = [{name: _plain(row[name]) for name in names} for row in (obj if many else [obj])]
        return rows if many else rows[0]

    enrollment_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    course = fields.String()
    version = fields.String()
    percent_complete = fields.Integer()
    lessons_done = fields.Integer()
    quizzes_passed = fields.Integer()
    status = fields.String()
    started_at = fields.AwareDateTime()
    last_activity_at = fields.AwareDateTime()
    completed_at = fields.AwareDateTime(allow_none=True)
    certificate = fields.String(
        allow_none=True, metadata={"description": "the current certificate's code, or null"}
    )


class CourseSummaryOut(OutputSchema):
    course = fields.String()
    title = fields.String()
    enrolled = fields.Integer()
    in_progress = fields.Integer()
    completed = fields.Integer()
    completion_rate = fields.Float(metadata={"description": "completed / enrolled, 0..1"})
    median_days_to_complete = fields.Float(allow_none=True)


class SummaryOut(OutputSchema):
    organization = fields.String()
    courses = fields.List(fields.Nested(CourseSummaryOut))
