import marshmallow as ma
from marshmallow import fields, validate

from lms.core.api import InputSchema, OutputSchema
from lms.core.fields import Line, UtcDateTime


class RegisterIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))
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
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class PasswordResetRequestIn(InputSchema):
    email = fields.Email(required=True)


class PasswordResetIn(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class VerifyEmailIn(InputSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ApiTokenIn(InputSchema):
    name = Line(required=True, max_length=100)
    expires_at = UtcDateTime(load_default=None, allow_none=True)


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
