from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class ImportForm(FlaskForm):
    archive = FileField(
        "Course archive",
        validators=[FileRequired("Choose a .zip or .tar.gz file of the course.")],
        description="A .zip or .tar.gz of a course folder (course.yml and its lessons).",
    )
    publish = BooleanField("Publish it now (learners see this version)")
