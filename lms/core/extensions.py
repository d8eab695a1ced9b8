"""Unbound extension objects, bound to the app in ``create_app``."""

import marshmallow as ma
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema as SmorestErrorSchema
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from lms.core import ratelimit_storage  # noqa: F401 (registers process-memory://)
from lms.core.db import Base


class ErrorSchema(SmorestErrorSchema):
    """The one error shape (documentation only; lms.core.errors renders it)."""

    request_id = ma.fields.String(
        metadata={"description": "Quote it when reporting a problem (also in X-Request-ID)"}
    )


class LmsApi(Api):
    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
api = LmsApi()
