from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from lms.accounts.forms import strong_password
from lms.core.forms import Line, SchemaField, Text
from lms.memberships.models import OrganizationKind
from lms.memberships.schemas import OrganizationIn

ROLES = [
    SelectChoice("learner", "Learner (takes a seat)"),
    SelectChoice("admin", "Admin (OSPO staff; takes a seat only to learn)"),
]


class OrganizationForm(FlaskForm):
    """The API's ``OrganizationIn`` as a page: slug, country, website and contact email are
    checked by the schema's own fields, so the page and the API accept the same values."""

    slug = StringField(
        "Short name (in addresses)",
        validators=[InputRequired(), SchemaField(OrganizationIn, "slug")],
    )
    name = StringField("Name", validators=[Line(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(OrganizationKind.UNIVERSITY_OSPO.value, "University OSPO"),
            SelectChoice(OrganizationKind.RESEARCH_INSTITUTE.value, "Research institute"),
            SelectChoice(OrganizationKind.OTHER.value, "Other"),
        ],
    )
    country = StringField(
        "Country (two-letter code)",
        validators=[Optional(), SchemaField(OrganizationIn, "country")],
    )
    website = StringField(
        "Website",
        validators=[Optional(), Line(required=False), SchemaField(OrganizationIn, "website")],
        description="An http:// or https:// address.",
    )
    contact_email = EmailField(
        "Contact email", validators=[Optional(), SchemaField(OrganizationIn, "contact_email")]
    )

    def data_for_service(self) -> dict:
        return {
            "slug": self.slug.data,
            "name": self.name.data,
            "kind": self.kind.data,
            "country": self.country.data or None,
            "website": self.website.data or None,
            "contact_email": self.contact_email.data or None,
        }


class GrantForm(FlaskForm):
    seats = IntegerField("Seats", validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    starts_on = DateField("Starts on", validators=[InputRequired()])
    ends_on = DateField("Ends on", validators=[InputRequired()])
    note = StringField(
        "Note",
        validators=[Text(), Length(max=2000)],
        description="The invoice or purchase order, e.g. 'PO 2026-117'.",
    )

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data <= self.starts_on.data:
            raise ValidationError("The end must be after the start.")


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)])
    name = StringField("Name (optional)", validators=[Line(required=False), Length(max=200)])
    role = SelectField("Role", choices=ROLES, default="learner")
    courses = StringField(
        "Courses to enroll in (optional)",
        validators=[Line(required=False), Length(max=1000)],
        description="Course short names separated by spaces, e.g. open-source-foundations.",
    )

    def course_list(self) -> list[str]:
        return [c for c in (self.courses.data or "").replace(",", " ").split() if c]


class CsvForm(FlaskForm):
    # Both file fields share the dashboard page: ids of their own, so each label names its input.
    file = FileField(
        "CSV file",
        id="csv-file",
        validators=[FileRequired()],
        description="Columns: email,name,role,courses (only email is required). "
        "UTF-8; comma or semicolon separated; courses separated by spaces or |.",
    )
    dry_run = BooleanField("Preview only (change nothing)", default=True)


class LogoForm(FlaskForm):
    file = FileField(
        "Logo (PNG or JPEG)",
        id="logo-file",
        validators=[FileRequired()],
        description="At most 1 MB and 4096 × 4096 pixels; stored as a PNG that fits 600 × 600 "
        "pixels, without metadata. Certificates rendered from now on show it.",
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLES)


def _true_or_false(value):
    return {"true": True, "false": False}.get(value, value)


class SeatForm(FlaskForm):
    learner_seat = SelectField(
        "Learner seat",
        choices=[
            SelectChoice("true", "Take a learner seat"),
            SelectChoice("false", "Release the learner seat"),
        ],
        coerce=_true_or_false,
    )


class AcceptForm(FlaskForm):
    name = StringField("Your name", validators=[Line(), Length(max=200)])
    password = PasswordField(
        "Choose a password",
        validators=[InputRequired(), strong_password],
        description="At least 10 characters; not a common password.",
    )
