import marshmallow as ma
from marshmallow import fields, validate

from lms.accounts.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from lms.core.api import InputSchema, OutputSchema
from lms.core.fields import Line, UtcDateTime
from lms.core.openapi import LIMITS_FROM_SETTINGS


def new_password(**kwargs) -> fields.String:
    """A password someone chooses: the rules of ``lms.accounts.passwords`` apply (the schema
    checks the maximum; the minimum and the rest answer 422 from the rules)."""
    return fields.String(
        load_only=True,
        validate=validate.Length(max=PASSWORD_MAX_LENGTH),
        metadata={
            "description": (
                "at least PASSWORD_MIN_LENGTH characters (the minLength here); not a common "
                "password, and not based on the email address"
            ),
            LIMITS_FROM_SETTINGS: {"minLength": "PASSWORD_MIN_LENGTH"},
        },
        **kwargs,
    )


class RegisterIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = new_password(required=True)
    name = Line(required=True, max_length=200)

    @ma.validates_schema(skip_on_field_errors=False)
    def check_password(self, data, **kwargs):
        from lms.accounts.passwords import password_problems

        if "password" in data:
            problems = password_problems(data["password"], data.get("email"))
            if problems:
                raise ma.ValidationError(problems, field_name="password")


class LoginIn(InputSchema):
    email = Line(required=True, max_length=254)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class UserOut(OutputSchema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    is_platform_admin = fields.Boolean()
    email_verified = fields.Boolean(
        metadata={"description": "Whether the owner has confirmed the address by a mailed link."}
    )
    created_at = fields.AwareDateTime()
    last_login_at = fields.AwareDateTime(allow_none=True)


class LoginOut(OutputSchema):
    user = fields.Nested(UserOut)
    csrf_token = fields.String(
        metadata={"description": "Send as the X-CSRFToken header on cookie-authenticated writes."}
    )


class CsrfOut(OutputSchema):
    csrf_token = fields.String()


class ProfileIn(InputSchema):
    name = Line(required=True, max_length=200)


class PasswordChangeIn(InputSchema):
    current_password = fields.String(required=True, load_only=True)
    new_password = new_password(required=True)


class PasswordResetRequestIn(InputSchema):
    email = fields.Email(required=True)


class PasswordResetIn(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = new_password(required=True)


class VerifyEmailIn(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ApiTokenIn(InputSchema):
    name = Line(required=True, max_length=100)
    expires_at = UtcDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "in the future (422 otherwise); null or absent: never expires. ISO 8601; a "
                "time without an offset is read as UTC"
            )
        },
    )


class ApiTokenOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    token_prefix = fields.String(metadata={"description": "The first characters of the token."})
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True)


class ApiTokenCreatedOut(ApiTokenOut):
    token = fields.String(
        attribute="raw_token",
        metadata={"description": "The token itself. Shown only this once."},
    )
