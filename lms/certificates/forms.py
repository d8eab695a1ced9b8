from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from lms.core.forms import Text


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[Text(required=True), Length(max=2000)],
        description="Shown on the public verification page.",
    )


class ReinstateForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Text(), Length(max=2000)])
