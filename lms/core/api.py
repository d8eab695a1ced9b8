"""API base classes: the Blueprint, the input/output schemas and the SQLAlchemy pager."""

from functools import wraps

import marshmallow as ma
import sqlalchemy as sa
from flask import Response
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import Page, abort
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from lms.core.extensions import db


class JsonOnlyParser(FlaskParser):
    """Refuses a non-empty body that is not JSON (415) instead of ignoring it.

    webargs treats a form-encoded body on a JSON endpoint as "no body", which turns a client's
    mistake into confusing "missing field" errors.

    It also leaves unknown query parameters to the schema (``QuerySchema`` refuses them)
    instead of webargs' default of silently dropping them.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.get_data(cache=True):
                abort(415, message="Send a JSON body with Content-Type: application/json.")
            return webargs_core.missing
        return super()._raw_load_json(req)


class _ReadyResponse(Exception):  # noqa: N818 (control flow, not an error)
    def __init__(self, response: Response):
        self.response = response


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = JsonOnlyParser()
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 25, "max_page_size": 100}

    def paginate(self, pager=None, **kwargs):
        """flask-smorest's paginate, except that a view may return a finished ``Response``
        (a streamed CSV export of the same list) and have it sent as it is."""
        paginate = super().paginate(pager, **kwargs)

        def decorator(func):
            @wraps(func)
            def view(*args, **kw):
                result = func(*args, **kw)
                if isinstance(result, Response):
                    raise _ReadyResponse(result)
                return result

            paginated = paginate(view)

            @wraps(paginated)
            def wrapper(*args, **kw):
                try:
                    return paginated(*args, **kw)
                except _ReadyResponse as ready:
                    return ready.response

            return wrapper

        return decorator


class InputSchema(ma.Schema):
    """Request bodies: unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE


PAGER_PARAMETERS = frozenset({"page", "page_size"})


class QuerySchema(ma.Schema):
    """Query strings: unknown parameters are an error too, so a typo in a filter is visible.

    The pager's ``page`` and ``page_size`` are read by ``@blp.paginate``, so they are set
    aside here rather than reported as unknown.
    """

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _set_aside_pager(self, data, **kwargs):
        return {key: data[key] for key in data if key not in PAGER_PARAMETERS}


class OutputSchema(ma.Schema):
    """Response bodies."""

    class Meta:
        ordered = True


class SQLAlchemyPage(Page):
    """Pages a ``select()`` statement: one COUNT and one SELECT with LIMIT/OFFSET."""

    @property
    def items(self):
        stmt = self.collection.limit(self.page_params.page_size).offset(self.page_params.first_item)
        return db.session.scalars(stmt).all()

    @property
    def item_count(self):
        count_stmt = sa.select(sa.func.count()).select_from(
            self.collection.order_by(None).subquery()
        )
        return db.session.scalar(count_stmt)
