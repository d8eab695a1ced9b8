import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from lms.core.api import InputSchema, OutputSchema, QuerySchema
from lms.core.fields import Line, id_range


class CourseListQuery(QuerySchema):
    topic = Line(max_length=60, blank=True)
    status = fields.String(
        load_default="published",
        validate=validate.OneOf(["published", "draft", "all"]),
        metadata={"description": "draft and all are for platform admins"},
    )


class VersionQuery(QuerySchema):
    version = fields.Integer(
        validate=id_range(),
        metadata={"description": "a version number (platform admins; default: the published)"},
    )


class CourseOut(OutputSchema):
    slug = fields.String(attribute="course.slug")
    title = fields.String()
    summary = fields.String()
    topics = fields.List(fields.String())
    version = fields.String(attribute="label")
    version_number = fields.Integer(attribute="number")
    content_hash = fields.String()
    estimated_hours = fields.Float()
    pass_mark = fields.Integer()
    lesson_count = fields.Integer()
    quiz_count = fields.Integer()
    total_minutes = fields.Integer()
    published = fields.Boolean(attribute="is_published")
    published_at = fields.AwareDateTime(allow_none=True)


class LessonSummaryOut(OutputSchema):
    slug = fields.String()
    title = fields.String()
    kind = fields.String()
    minutes = fields.Integer()
    required = fields.Boolean(attribute="is_required")
    position = fields.Integer()


class ModuleOut(OutputSchema):
    slug = fields.String()
    title = fields.String()
    summary = fields.String()
    lessons = fields.List(fields.Nested(LessonSummaryOut))


class OutlineOut(CourseOut):
    modules = fields.List(fields.Nested(ModuleOut), attribute="outline_modules")


class ChoiceOut(OutputSchema):
    id = fields.String()
    text_html = fields.String()


class QuestionOut(OutputSchema):
    id = fields.String()
    type = fields.String()
    prompt_html = fields.String()
    choices = fields.List(fields.Nested(ChoiceOut))


class NeighbourOut(OutputSchema):
    slug = fields.String()
    title = fields.String()


class ModuleLinkOut(OutputSchema):
    slug = fields.String()
    title = fields.String()


class LessonOut(OutputSchema):
    course = fields.String(attribute="version.course.slug")
    version = fields.String(attribute="version.label")
    version_number = fields.Integer(attribute="version.number")
    module = fields.Nested(ModuleLinkOut)
    slug = fields.String(attribute="lesson.slug")
    title = fields.String(attribute="lesson.title")
    kind = fields.String(attribute="lesson.kind")
    minutes = fields.Integer(attribute="lesson.minutes")
    required = fields.Boolean(attribute="lesson.is_required")
    html = fields.String(attribute="lesson.body_html")
    pass_mark = fields.Integer(attribute="lesson.pass_mark", allow_none=True)
    max_attempts = fields.Integer(attribute="lesson.max_attempts", allow_none=True)
    questions = fields.List(fields.Nested(QuestionOut), attribute="questions")
    previous = fields.Nested(NeighbourOut, allow_none=True)
    next = fields.Nested(NeighbourOut, allow_none=True)


class CoursePatchIn(InputSchema):
    published = fields.Boolean(required=True)


class ImportQuery(QuerySchema):
    publish = fields.Boolean(load_default=False)


class ImportFiles(ma.Schema):
    archive = Upload(required=True, metadata={"description": "a .zip or .tar.gz of the course"})


class ImportOut(OutputSchema):
    status = fields.String(metadata={"description": "created, or unchanged (same content)"})
    course = fields.String(attribute="course.slug")
    version = fields.String(attribute="version.label")
    version_number = fields.Integer(attribute="version.number")
    content_hash = fields.String(attribute="version.content_hash")
    published = fields.Boolean(attribute="version.is_published")
    lessons = fields.Integer(attribute="version.lesson_count")
    quizzes = fields.Integer(attribute="version.quiz_count")
