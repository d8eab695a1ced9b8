from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from lms.accounts.passwords import password_problems
from lms.core.forms import Line


def strong_password(form, field):
    email = form.email.data if hasattr(form, "email") else None
    problems = password_problems(field.data or "", email)
    if problems:
        raise ValidationError(problems[0])


class RegisterForm(FlaskForm):
    name = StringField("Your name", validators=[Line(), Length(max=200)])
    email = EmailField("Email", validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[InputRequired(), strong_password],
        description="At least 10 characters; not a common password.",
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[Line(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=128)])


class PasswordResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Email()])


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired(), strong_password])


class ProfileForm(FlaskForm):
    name = StringField("Your name", validators=[Line(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired()])
    new_password = PasswordField("New password", validators=[InputRequired(), strong_password])


class TokenForm(FlaskForm):
    # The account page also holds ProfileForm's "name": an id of its own for the label to name.
    name = StringField(
        "Token name",
        id="token-name",
        validators=[Line(), Length(max=100)],
        description="What the token is for, e.g. 'reporting script'.",
    )
    expires_on = DateField(
        "Expires on (optional)", validators=[Optional()], description="Leave empty for no expiry."
    )
